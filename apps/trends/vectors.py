"""Small helpers for passing vectors to raw pgvector SQL."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def vector_literal(vector: Iterable[float]) -> str:
    """The text form pgvector parses (``'[0.1,0.2]'::vector``)."""
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def unit(vector: Iterable[float]) -> np.ndarray:
    """The vector scaled to length 1 (a zero vector stays zero)."""
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v
