"""The placed originals a run's topic stage compares items with, held in memory for the run.

``topic_assign`` wants, per item, the ``PIPELINE_TOPIC_NEIGHBOURS`` nearest stored originals that have a topic
and lie in the active window. pgvector answered that with one filtered, exact top-k scan per item (the
planner sorts the rows the filter keeps; the HNSW index, mostly items embedded ahead and not placed yet, is
no help): ~10 ms per item at 20,000 items, most of the clustering stage. The same exact search over the same
rows is one matrix product per batch here. The rows are read once per run and the run's own placements are
appended, so the set is what the query would see: only the pipeline places items, under its lock, and
nothing moves a topic between batches (merges come after, in ``recluster.py``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from apps.trends.models import Item
from apps.trends.pipeline.context import item_time
from apps.trends.vectors import vector_cursor

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_PLACED_SQL = """
SELECT id, topic_id, embedding, language, coalesce(published_at, collected_at)
FROM trends_item
WHERE duplicate_of_id IS NULL AND topic_id IS NOT NULL AND embedding IS NOT NULL
    AND coalesce(published_at, collected_at) >= %s
"""


def _micros(moment: datetime) -> int:
    """Exact integer microseconds, so the window's ``>=`` is decided exactly as PostgreSQL decides it."""
    return (moment - _EPOCH) // _MICROSECOND


class PlacedOriginals:
    """Embeddings, ids, topics, languages and times of placed originals; grows by doubling."""

    def __init__(self, dimensions: int) -> None:
        self.size = 0
        self.vectors = np.zeros((0, dimensions), dtype=np.float32)
        self.norms = np.zeros(0, dtype=np.float64)
        self.ids = np.zeros(0, dtype=np.int64)
        self.topics = np.zeros(0, dtype=np.int64)
        self.times = np.zeros(0, dtype=np.int64)
        self.languages: list[str] = []
        self.row_of: dict[int, int] = {}

    def add(self, rows: list[tuple[int, int, np.ndarray, str, datetime]]) -> None:
        """Append rows; an id already held is overwritten in place (its topic may have been given again)."""
        for pk, topic_id, vector, language, moment in rows:
            if pk in self.row_of:
                r = self.row_of[pk]
                self.vectors[r], self.topics[r], self.times[r] = vector, topic_id, _micros(moment)
                self.languages[r] = language
                self.norms[r] = np.sqrt(np.float64(np.dot(self.vectors[r], self.vectors[r])))
        rows = [row for row in rows if row[0] not in self.row_of]
        need = self.size + len(rows)
        if need > len(self.ids):
            capacity = max(need, 2 * len(self.ids), 1024)
            for name in ("vectors", "norms", "ids", "topics", "times"):
                old = getattr(self, name)
                grown = np.zeros((capacity, *old.shape[1:]), dtype=old.dtype)
                grown[: self.size] = old[: self.size]
                setattr(self, name, grown)
        end = self.size + len(rows)
        for k, (pk, topic_id, vector, language, moment) in enumerate(rows, start=self.size):
            self.vectors[k] = vector
            self.ids[k], self.topics[k], self.times[k] = pk, topic_id, _micros(moment)
            self.row_of[pk] = k
            self.languages.append(language)
        # pgvector's cosine divides by the norms (float32 sums, taken in double): so do we.
        self.norms[self.size : end] = np.sqrt(
            np.einsum("ij,ij->i", self.vectors[self.size : end], self.vectors[self.size : end]).astype(np.float64)
        )
        self.size = end

    def nearest(
        self, queries: np.ndarray, since: list[datetime], limit: int
    ) -> list[list[tuple[int, int, float, str]]]:
        """Per query: (id, topic id, cosine, language) of its ``limit`` nearest with a time >= its ``since``."""
        if not self.size or not len(queries):
            return [[] for _ in range(len(queries))]
        vectors, times = self.vectors[: self.size], self.times[: self.size]
        dots = queries @ vectors.T
        query_norms = np.sqrt(np.einsum("ij,ij->i", queries, queries).astype(np.float64))
        found = []
        for q, moment in enumerate(since):
            in_window = np.flatnonzero(times >= _micros(moment))
            cosine = dots[q, in_window] / np.maximum(query_norms[q] * self.norms[in_window], 1e-30)
            if len(in_window) > limit:
                keep = np.argpartition(-cosine, limit)[:limit]
                in_window, cosine = in_window[keep], cosine[keep]
            order = np.argsort(-cosine, kind="stable")
            found.append(
                [
                    (int(self.ids[r]), int(self.topics[r]), float(c), self.languages[r])
                    for r, c in zip(in_window[order].tolist(), cosine[order].tolist(), strict=True)
                ]
            )
        return found


def placed_originals_load(*, since: datetime, dimensions: int) -> PlacedOriginals:
    """The stored placed originals from ``since`` on (the earliest window a run's batches will ask for)."""
    placed = PlacedOriginals(dimensions)
    with vector_cursor() as cursor:
        cursor.execute(_PLACED_SQL, [since], binary=True)
        placed.add(cursor.fetchall())
    return placed


def placed_rows(items: list[Item]) -> list[tuple[int, int, np.ndarray, str, datetime]]:
    """The batch's items that are now placed originals, as rows for ``PlacedOriginals.add``."""
    return [
        (i.pk, i.topic_id, i.embedding, i.language, item_time(i))
        for i in items
        if i.pk and i.topic_id and i.duplicate_of_id is None and i.duplicate_of is None and i.embedding is not None
    ]
