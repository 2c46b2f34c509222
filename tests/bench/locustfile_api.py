"""Locust users for `python -m tests.bench api`: trends list and detail, keyword, semantic and hybrid search.

Queries are made up per request from the benchmark's theme words (BENCH_API_VOCABULARY, a JSON file), so
nearly every semantic query misses the embedding cache and pays its embedding. A quarter of the searches
carry a filter. BENCH_API_THINK (seconds, default 0) is each user's mean pause between requests: 0 measures
the server saturated, 1 an analyst's pace.
"""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

THINK = float(os.environ.get("BENCH_API_THINK", "0"))
VOCABULARY = json.loads(open(os.environ["BENCH_API_VOCABULARY"], encoding="utf-8").read())  # noqa: SIM115
THEMES = list(VOCABULARY["themes"].values())


def _words(count: int) -> str:
    theme = random.choice(THEMES)
    return " ".join(random.sample(theme, count))


def _filters() -> dict:
    roll = random.random()
    if roll < 0.1:
        return {"language": "de"}
    if roll < 0.2:
        return {"source": random.choice(VOCABULARY["sources"])}
    if roll < 0.25:
        return {"since": "2026-10-25T00:00:00Z"}
    return {}


class ApiUser(HttpUser):
    wait_time = between(THINK / 2, THINK * 1.5)

    def _get(self, url: str, name: str, params: dict | None = None) -> None:
        with self.client.get(url, params=params, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(2)
    def trends_list(self) -> None:
        self._get("/api/v1/trends/", "trends list")

    @task(2)
    def trend_detail(self) -> None:
        low, high = VOCABULARY["trend_ids"]
        self._get(f"/api/v1/trends/{random.randint(low, high)}/", "trend detail")

    @task(2)
    def keyword(self) -> None:
        self._get("/api/v1/search/keyword", "keyword", {"q": _words(2), **_filters()})

    @task(2)
    def semantic(self) -> None:
        self._get("/api/v1/search/semantic", "semantic", {"q": _words(3), **_filters()})

    @task(2)
    def hybrid(self) -> None:
        self._get("/api/v1/search/", "hybrid", {"q": _words(3), **_filters()})
