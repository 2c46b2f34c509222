"""What every collector is: a kind with a config spec (apps.core.config_spec), and ``collect()`` -> drafts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from apps.core.config_spec import ConfiguredKind
from apps.core.http import FetchError
from apps.trends.ingest import ItemDraft

if TYPE_CHECKING:
    from apps.plugins.models import Source


class Collector(ConfiguredKind):
    """Base of every collector: subclasses declare ``kind`` and ``fields`` (apps.core.config_spec) and implement
    ``collect``."""

    label: ClassVar[str] = "Source"

    def __init__(self, source: Source) -> None:
        self.source = source
        self.config = self.config_validate(name=source.name, config=source.config)

    def secret(self, name: str) -> str:
        """A credential from the source's config, else from the environment variable its field names."""
        spec = next(spec for spec in self.fields if spec.name == name)
        return self.config.get(name) or (os.environ.get(spec.env, "") if spec.env else "")

    def secret_required(self, name: str, *, what: str) -> str:
        """Like ``secret``, but a missing credential fails the run permanently, saying where to put it."""
        value = self.secret(name)
        if not value:
            spec = next(spec for spec in self.fields if spec.name == name)
            raise FetchError(
                f"Source '{self.source.name}' has no {what} (config '{name}' or {spec.env})", permanent=True
            )
        return value

    def collect(self) -> CollectOutcome:
        raise NotImplementedError


@dataclass
class CollectOutcome:
    """What one collection found. ``errors`` are partial failures (one bad feed out of several) that did not
    stop the run; ``not_modified`` means a conditional GET answered 304 and nothing was parsed."""

    drafts: list[ItemDraft] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # stored on the run: per-URL status and counts
    feed_states: list[Any] = field(default_factory=list)  # rss FeedResults whose validators the service stores
    unreadable: int = 0  # records the collector could not read at all (a file's bad lines): counted as skipped


def epoch_to_datetime(value: Any, *, milliseconds: bool = False) -> datetime | None:
    try:
        seconds = float(value) / (1000 if milliseconds else 1)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def iso_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
