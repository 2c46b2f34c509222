"""Replay: an offline demo source that releases a bundled dataset over time, stamped with replay time.

Two pacings. Without ``offset_column`` items come out in the dataset's time order, spread evenly over
``duration_minutes`` from the moment the source was created (or ``started_at``). With it, each row says
when it is released, in seconds from the start: negative offsets are the replayed past (released at once,
stamped in the past, so the first pipeline runs can be replayed with ``--as-of``), positive ones arrive
live. ``lane`` keeps only the rows of one lane, so one file feeds several sources (an RSS feed, a Hacker
News front page, a subreddit) that carry the same stories. With ``loop`` the timeline starts again after
its last row; a cycle's items get their own external ids, so collecting again never duplicates.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.core.config_spec import ConfigField
from apps.plugins.collectors.base import Collector, CollectOutcome, iso_to_datetime
from apps.plugins.collectors.file import PRESETS, file_drafts, file_settings, import_path_allowed
from apps.trends.ingest import ItemDraft

LOOP_PAUSE = timedelta(minutes=10)  # between one cycle's last row and the next cycle's first
LOOP_CYCLES_MAX = 1000  # bounds the work of a source left running for years
ENGAGEMENT_COLUMNS = ("points", "comments")


class ReplayCollector(Collector):
    kind = "replay"
    fields = (
        ConfigField("path", str, help="a CSV/JSONL file inside TRENDSITE_IMPORT_DIRS"),
        ConfigField("preset", str, default="uci", choices=tuple(PRESETS)),
        ConfigField("duration_minutes", int, default=10, min=1, max=24 * 60),
        ConfigField("started_at", str, default="", help="ISO time the replay starts; default: when created"),
        ConfigField("offset_column", str, default="", help="column of seconds from the start; default: even spread"),
        ConfigField("lane_column", str, default="", help="column naming each row's lane"),
        ConfigField("lane", str, default="", help="keep only the rows of this lane"),
        ConfigField("loop", bool, default=False, help="start the timeline again after its last row"),
    )

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        problems = []
        if config["started_at"] and iso_to_datetime(config["started_at"]) is None:
            problems.append(f"'started_at' must be an ISO date-time, got {config['started_at']!r}")
        if config["lane"] and not config["lane_column"]:
            problems.append("'lane' needs 'lane_column', the column that names each row's lane")
        return problems

    def collect(self) -> CollectOutcome:
        extra = [c for c in (self.config["offset_column"], self.config["lane_column"]) if c]
        preset = file_settings({"preset": self.config["preset"]})
        metrics = [*preset["mapping"].get("metrics", []), *extra, *(c.upper() for c in ENGAGEMENT_COLUMNS)]
        with import_path_allowed(self.config["path"]).open("rb") as stream:
            drafts = list(
                file_drafts(stream, config={"preset": self.config["preset"], "mapping": {"metrics": metrics}})
            )
        if self.config["lane"]:
            lane_key = self.config["lane_column"].lower()
            drafts = [d for d in drafts if d.metrics.get(lane_key) == self.config["lane"]]
        started = iso_to_datetime(self.config["started_at"]) or self.source.created_at or timezone.now()
        timeline = self._timeline(drafts)
        now = timezone.now()
        released: list[ItemDraft] = []
        if not timeline:
            return CollectOutcome(drafts=released)
        first, last = timeline[0][0], timeline[-1][0]
        period = last - first + LOOP_PAUSE
        cycles = 1
        if self.config["loop"] and now > started + last:
            cycles = min(int((now - started - first) / period) + 1, LOOP_CYCLES_MAX)
        for cycle in range(cycles):
            for offset, draft in timeline:
                release_at = started + offset + period * cycle
                if release_at > now:
                    break
                released.append(self._stamped(draft, release_at=release_at, cycle=cycle))
        return CollectOutcome(drafts=released)

    def _timeline(self, drafts: list[ItemDraft]) -> list[tuple[timedelta, ItemDraft]]:
        """(offset from the start, draft) in release order."""
        column = self.config["offset_column"].lower()
        if column:
            timed = []
            for draft in drafts:
                try:
                    timed.append((timedelta(seconds=float(draft.metrics.pop(column))), draft))
                except (KeyError, TypeError, ValueError):
                    continue  # a row without an offset has no place on the timeline
            return sorted(timed, key=lambda pair: pair[0])
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        drafts.sort(key=lambda d: d.published_at or epoch)
        step = timedelta(minutes=self.config["duration_minutes"]) / max(len(drafts), 1)
        return [(step * index, draft) for index, draft in enumerate(drafts)]

    def _stamped(self, draft: ItemDraft, *, release_at: datetime, cycle: int) -> ItemDraft:
        metrics = {k: v for k, v in draft.metrics.items() if k not in ENGAGEMENT_COLUMNS and v not in ("", None)}
        for key in ENGAGEMENT_COLUMNS:  # numbers, as the live collectors store them, so the ranker counts them
            value = draft.metrics.get(key)
            if value not in ("", None):
                metrics[key] = int(float(value))
        metrics["original_published_at"] = draft.published_at.isoformat() if draft.published_at else None
        lane_column = self.config["lane_column"].lower()
        metrics.pop(lane_column, None)
        external_id = draft.external_id if cycle == 0 else f"{draft.external_id}~{cycle}"
        return dataclasses.replace(draft, external_id=external_id, published_at=release_at, metrics=metrics)
