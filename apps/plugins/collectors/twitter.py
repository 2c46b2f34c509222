"""X (Twitter) API v2 recent search for the configured queries, with a bearer token."""

from __future__ import annotations

from typing import Any

from apps.core.config_spec import ConfigField
from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, iso_to_datetime
from apps.trends.ingest import ItemDraft


class TwitterCollector(Collector):
    kind = "twitter"
    fields = (
        ConfigField("queries", list, min=1, max=20, items=str, help='e.g. ["openai -is:retweet lang:en"]'),
        ConfigField("bearer_token", str, env="TWITTER_BEARER_TOKEN", secret=True, help="or set TWITTER_BEARER_TOKEN"),
        ConfigField("max_results", int, default=50, min=10, max=100),
        ConfigField("base_url", str, default="https://api.x.com/2"),
    )

    def collect(self) -> CollectOutcome:
        token = self.secret_required("bearer_token", what="X bearer token")
        outcome = CollectOutcome()
        for query in self.config["queries"]:
            try:
                payload = http_fetch(
                    f"{self.config['base_url'].rstrip('/')}/tweets/search/recent",
                    params={
                        "query": query,
                        "max_results": self.config["max_results"],
                        "tweet.fields": "created_at,public_metrics,lang,author_id",
                        "expansions": "author_id",
                        "user.fields": "username",
                    },
                    headers={"Authorization": f"Bearer {token}"},
                ).json()
            except FetchError as exc:
                if len(self.config["queries"]) == 1:
                    raise
                outcome.errors.append(f"query {query!r}: {exc}")
                continue
            outcome.drafts.extend(self._drafts(payload if isinstance(payload, dict) else {}))
        if outcome.errors and not outcome.drafts:
            raise FetchError("; ".join(outcome.errors))
        return outcome

    @staticmethod
    def _drafts(payload: dict[str, Any]) -> list[ItemDraft]:
        users = {u.get("id"): u.get("username", "") for u in (payload.get("includes") or {}).get("users", [])}
        drafts = []
        for tweet in payload.get("data") or []:
            metrics = tweet.get("public_metrics") or {}
            username = users.get(tweet.get("author_id"), "")
            drafts.append(
                ItemDraft(
                    external_id=tweet.get("id") or "",
                    title=tweet.get("text") or "",
                    url=f"https://x.com/{username or 'i'}/status/{tweet.get('id')}",
                    text=tweet.get("text") or "",
                    author=username,
                    published_at=iso_to_datetime(tweet.get("created_at")),
                    language_hint=tweet.get("lang") or "",
                    metrics={
                        "likes": metrics.get("like_count", 0),
                        "retweets": metrics.get("retweet_count", 0),
                        "comments": metrics.get("reply_count", 0),
                        "quotes": metrics.get("quote_count", 0),
                    },
                )
            )
        return drafts
