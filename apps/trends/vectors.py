"""Small helpers for passing vectors to raw pgvector SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def vector_literal(vector: Iterable[float]) -> str:
    """The text form pgvector parses (``'[0.1,0.2]'::vector``)."""
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def unit(vector: Iterable[float]) -> np.ndarray:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def index_scan_prefer(cursor: Any) -> None:
    """Make the next nearest-neighbour queries in this transaction use the HNSW indexes.

    The planner picks a sequential scan plus sort on small or freshly loaded tables (stale statistics), which
    costs a full scan per query vector; and with a filter, iterative scanning keeps HNSW returning rows
    until LIMIT is met instead of stopping at ``ef_search`` candidates. Only lasts until the transaction ends.
    """
    cursor.execute("SET LOCAL enable_seqscan = off")
    cursor.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
