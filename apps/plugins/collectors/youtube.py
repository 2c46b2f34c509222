"""YouTube Data API v3: most popular videos by region (and optionally category), with an API key."""

from __future__ import annotations

from typing import Any

from apps.core.config_spec import ConfigField
from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, iso_to_datetime
from apps.trends.ingest import ItemDraft


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


class YouTubeCollector(Collector):
    kind = "youtube"
    fields = (
        ConfigField("api_key", str, env="YOUTUBE_API_KEY", secret=True, help="or set YOUTUBE_API_KEY"),
        ConfigField("region_code", str, default="US"),
        ConfigField("category_id", str, default=""),
        ConfigField("max_results", int, default=50, min=1, max=50),
        ConfigField("base_url", str, default="https://www.googleapis.com/youtube/v3"),
    )

    def collect(self) -> CollectOutcome:
        api_key = self.secret_required("api_key", what="YouTube API key")
        params: dict[str, Any] = {
            "part": "snippet,statistics",
            "chart": "mostPopular",
            "regionCode": self.config["region_code"],
            "maxResults": self.config["max_results"],
            "key": api_key,
        }
        if self.config["category_id"]:
            params["videoCategoryId"] = self.config["category_id"]
        payload = http_fetch(f"{self.config['base_url'].rstrip('/')}/videos", params=params).json()
        if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
            raise FetchError("YouTube answered without an 'items' list")
        outcome = CollectOutcome()
        for video in payload["items"]:
            snippet, stats = video.get("snippet") or {}, video.get("statistics") or {}
            outcome.drafts.append(
                ItemDraft(
                    external_id=video.get("id") or "",
                    title=snippet.get("title") or "",
                    url=f"https://www.youtube.com/watch?v={video.get('id')}",
                    text=snippet.get("description") or "",
                    author=snippet.get("channelTitle") or "",
                    published_at=iso_to_datetime(snippet.get("publishedAt")),
                    language_hint=(snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage") or "")[:2],
                    metrics={
                        "views": _count(stats.get("viewCount")),
                        "likes": _count(stats.get("likeCount")),
                        "comments": _count(stats.get("commentCount")),
                        "category_id": snippet.get("categoryId", ""),
                    },
                )
            )
        return outcome
