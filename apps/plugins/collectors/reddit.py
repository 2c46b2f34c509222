"""Reddit listings of configured subreddits: public JSON, or OAuth client-credentials when configured."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.core.config_spec import ConfigField, value_shown
from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, epoch_to_datetime
from apps.trends.ingest import ItemDraft


class RedditCollector(Collector):
    kind = "reddit"
    fields = (
        ConfigField("subreddits", list, min=1, max=50, items=str, help='e.g. ["worldnews", "technology"]'),
        ConfigField("listing", str, default="hot", choices=("hot", "new", "rising", "top")),
        ConfigField("limit", int, default=50, min=1, max=100),
        ConfigField("client_id", str, default="", env="REDDIT_CLIENT_ID"),
        ConfigField("client_secret", str, default="", env="REDDIT_CLIENT_SECRET", secret=True),
        ConfigField("base_url", str, default="https://www.reddit.com"),
        ConfigField("oauth_base_url", str, default="https://oauth.reddit.com"),
    )

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        bad = [s for s in config["subreddits"] if not s.strip("/ ").removeprefix("r/").replace("_", "").isalnum()]
        return (
            [f"'subreddits' entries must be subreddit names like \"worldnews\", got {value_shown(bad[0])}"]
            if bad
            else []
        )

    def _token(self, client_id: str, client_secret: str) -> str:
        response = http_fetch(
            f"{self.config['base_url'].rstrip('/')}/api/v1/access_token",
            method="POST",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
        )
        token = response.json().get("access_token") if isinstance(response.json(), dict) else None
        if not token:
            raise FetchError("Reddit OAuth answered without an access_token", permanent=True)
        return token

    def collect(self) -> CollectOutcome:
        client_id, client_secret = self.secret("client_id"), self.secret("client_secret")
        headers = {"User-Agent": f"{settings.TRENDSITE_USER_AGENT} reddit-source/{self.source.name}"}
        if client_id and client_secret:
            headers["Authorization"] = f"Bearer {self._token(client_id, client_secret)}"
            base = self.config["oauth_base_url"].rstrip("/")
            suffix = ""
        else:
            base, suffix = self.config["base_url"].rstrip("/"), ".json"
        outcome = CollectOutcome()
        for subreddit in self.config["subreddits"]:
            name = subreddit.strip("/ ").removeprefix("r/")
            url = f"{base}/r/{name}/{self.config['listing']}{suffix}"
            try:
                listing = http_fetch(url, params={"limit": self.config["limit"], "raw_json": 1}, headers=headers).json()
                children = listing["data"]["children"]
            except FetchError as exc:
                if len(self.config["subreddits"]) == 1:
                    raise
                outcome.errors.append(f"r/{name}: {exc}")
                continue
            except (KeyError, TypeError):
                outcome.errors.append(f"r/{name}: answer is not a Reddit listing")
                continue
            outcome.drafts.extend(self._draft(child.get("data") or {}) for child in children if isinstance(child, dict))
        if outcome.errors and not outcome.drafts:
            raise FetchError("; ".join(outcome.errors))
        return outcome

    @staticmethod
    def _draft(post: dict[str, Any]) -> ItemDraft:
        permalink = f"https://www.reddit.com{post.get('permalink', '')}"
        return ItemDraft(
            external_id=post.get("name") or "",
            title=post.get("title") or "",
            url=post.get("url_overridden_by_dest") or post.get("url") or permalink,
            text=post.get("selftext") or "",
            author=post.get("author") or "",
            published_at=epoch_to_datetime(post.get("created_utc")),
            metrics={
                "points": post.get("score", 0),
                "comments": post.get("num_comments", 0),
                "upvote_ratio": post.get("upvote_ratio"),
                "subreddit": post.get("subreddit", ""),
                "permalink": permalink,
            },
        )
