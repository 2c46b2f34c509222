"""Replay: an offline demo source that releases a bundled dataset over a few minutes, stamped with now.

Items come out in the dataset's time order, spread evenly over ``duration_minutes`` from the moment the
source was created (or ``started_at``), so the pipeline sees stories grow as if live.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.core.config_spec import ConfigField
from apps.plugins.collectors.base import Collector, CollectOutcome, iso_to_datetime
from apps.plugins.collectors.file import PRESETS, file_drafts, import_path_allowed


class ReplayCollector(Collector):
    kind = "replay"
    fields = (
        ConfigField("path", str, help="a CSV/JSONL file inside TRENDSITE_IMPORT_DIRS"),
        ConfigField("preset", str, default="uci", choices=tuple(PRESETS)),
        ConfigField("duration_minutes", int, default=10, min=1, max=24 * 60),
        ConfigField("started_at", str, default="", help="ISO time the replay starts; default: when created"),
    )

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        if config["started_at"] and iso_to_datetime(config["started_at"]) is None:
            return [f"'started_at' must be an ISO date-time, got {config['started_at']!r}"]
        return []

    def collect(self) -> CollectOutcome:
        with import_path_allowed(self.config["path"]).open("rb") as stream:
            drafts = list(file_drafts(stream, config={"preset": self.config["preset"]}))
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        drafts.sort(key=lambda d: d.published_at or epoch)
        started = iso_to_datetime(self.config["started_at"]) or self.source.created_at or timezone.now()
        step = timedelta(minutes=self.config["duration_minutes"]) / max(len(drafts), 1)
        now = timezone.now()
        released = []
        for index, draft in enumerate(drafts):
            release_at = started + step * index
            if release_at > now:
                break
            draft.metrics = {
                **draft.metrics,
                "original_published_at": draft.published_at.isoformat() if draft.published_at else None,
            }
            draft.published_at = release_at
            released.append(draft)
        return CollectOutcome(drafts=released)
