"""What every stage receives besides its batch: the run's clock and a place to count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

LEXICAL_MEMO_ITEMS = 6_000  # 8 KB each (2,048 float32): at most 48 MB; the re-clustering window is 3,000


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
    # Lexical vectors of items seen this run (by id): stored neighbours come back batch after batch.
    lexicals: dict[int, np.ndarray] = field(default_factory=dict)
    # The placed originals topic_assign searches (pipeline/placed.py), read once and grown by each batch.
    placed: Any = None
    placed_since: datetime | None = None

    def lexicals_remember(self, vectors: dict[int, np.ndarray]) -> None:
        """Keep these lexical vectors for the run, forgetting the oldest beyond ``LEXICAL_MEMO_ITEMS``."""
        self.lexicals.update(vectors)
        excess = len(self.lexicals) - LEXICAL_MEMO_ITEMS
        if excess > 0:
            for pk in list(self.lexicals)[:excess]:
                del self.lexicals[pk]


def item_time(item) -> datetime:
    """When an item happened: its publication time, or when we collected it if the source gave none."""
    return item.published_at or item.collected_at
