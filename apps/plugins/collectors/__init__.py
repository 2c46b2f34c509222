"""The registry: source kind -> collector class. Adding a kind is one module plus one line here."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.core.exceptions import ValidationError

from apps.plugins.collectors.base import Collector

COLLECTORS: dict[str, str] = {
    "hackernews": "apps.plugins.collectors.hackernews.HackerNewsCollector",
    "reddit": "apps.plugins.collectors.reddit.RedditCollector",
    "rss": "apps.plugins.collectors.rss.RssCollector",
    "youtube": "apps.plugins.collectors.youtube.YouTubeCollector",
    "twitter": "apps.plugins.collectors.twitter.TwitterCollector",
    "file": "apps.plugins.collectors.file.FileCollector",
    "replay": "apps.plugins.collectors.replay.ReplayCollector",
}


def collector_class(kind: str) -> type[Collector]:
    """The collector class for ``kind``; ValidationError for a kind nobody registered."""
    try:
        module_name, class_name = COLLECTORS[kind].rsplit(".", 1)
    except KeyError:
        raise ValidationError(f"unknown source kind {kind!r} (known: {', '.join(COLLECTORS)})") from None
    return getattr(import_module(module_name), class_name)


def source_config_validate(*, kind: str, name: str, config: Any) -> dict[str, Any]:
    """The one validation of a source's config, shared by the admin form, the API and the services."""
    return collector_class(kind).config_validate(name=name, config=config)
