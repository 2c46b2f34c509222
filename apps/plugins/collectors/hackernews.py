"""Hacker News top/new/best stories through the official Firebase API, item fetches in bounded parallel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from apps.core.config_spec import ConfigField
from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, epoch_to_datetime
from apps.trends.ingest import ItemDraft


class HackerNewsCollector(Collector):
    kind = "hackernews"
    fields = (
        ConfigField("list", str, default="top", choices=("top", "new", "best")),
        ConfigField("max_items", int, default=100, min=1, max=500),
        ConfigField("concurrency", int, default=8, min=1, max=16),
        ConfigField("base_url", str, default="https://hacker-news.firebaseio.com/v0"),
    )

    def collect(self) -> CollectOutcome:
        base = self.config["base_url"].rstrip("/")
        ids = http_fetch(f"{base}/{self.config['list']}stories.json").json()
        if not isinstance(ids, list):
            raise FetchError(f"{base}/{self.config['list']}stories.json is not a list of ids")
        ids = ids[: self.config["max_items"]]
        outcome = CollectOutcome()

        def fetch(item_id: Any) -> dict[str, Any] | None:
            try:
                item = http_fetch(f"{base}/item/{int(item_id)}.json").json()
            except (FetchError, TypeError, ValueError) as exc:
                outcome.errors.append(f"item {item_id}: {exc}")
                return None
            return item if isinstance(item, dict) else None

        with ThreadPoolExecutor(max_workers=self.config["concurrency"]) as pool:
            items = list(pool.map(fetch, ids))
        if ids and not any(items):
            raise FetchError(f"none of the {len(ids)} Hacker News items could be fetched: {outcome.errors[0]}")
        for item in items:
            if not item or item.get("deleted") or item.get("dead"):
                continue
            item_id = item.get("id")
            outcome.drafts.append(
                ItemDraft(
                    external_id=str(item_id or ""),
                    title=item.get("title") or "",
                    url=item.get("url") or f"https://news.ycombinator.com/item?id={item_id}",
                    text=item.get("text") or "",
                    author=item.get("by") or "",
                    published_at=epoch_to_datetime(item.get("time")),
                    language_hint="en",
                    metrics={"points": item.get("score", 0), "comments": item.get("descendants", 0)},
                )
            )
        return outcome
