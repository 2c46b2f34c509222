"""What every stage receives besides its batch: the run's clock and a place to count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np


@dataclass
class StageContext:
    """``as_of`` is the run's "now": the wall clock for live runs, the replay time with ``--as-of``."""

    as_of: datetime
    replay: bool = False
    counts: Counter = field(default_factory=Counter)
    touched_topic_ids: set[int] = field(default_factory=set)
    # Vectors the runner computed ahead (by item id); the embed stage computes whatever is missing.
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    # Word weights for the lexical clustering features, learned once per run from the stored items.
    idf: Any = None


def item_time(item) -> datetime:
    """When an item happened: its publication time, or when we collected it if the source gave none."""
    return item.published_at or item.collected_at
