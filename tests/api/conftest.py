"""API test fixtures: clients (anonymous, user, staff by token) and a small world of trends to read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.plugins.models import Source
from apps.trends.models import Category, Item, Topic, Trend, TrendSnapshot

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


def unit(direction: int, tilt: int | None = None, amount: float = 0.0) -> list[float]:
    """A unit vector along ``direction``, leaning ``amount`` towards ``tilt``."""
    vector = np.zeros(384, dtype=np.float32)
    vector[direction] = 1.0
    if tilt is not None:
        vector[tilt] = amount
    return (vector / np.linalg.norm(vector)).tolist()


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("reader", password="pw-reader-1")


@pytest.fixture
def staff_user(db):
    return get_user_model().objects.create_user("operator", password="pw-operator-1", is_staff=True)


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def staff(staff_user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    return client


class World:
    """Two sources, three categories' worth of trends with items and snapshots."""

    def __init__(self) -> None:
        self.wire = Source.objects.create(name="wire", kind="file")
        self.blog = Source.objects.create(name="blog", kind="file")
        self.tech = Category.objects.get_or_create(name="technology", defaults={"description": "tech"})[0]
        self.markets = Category.objects.get_or_create(name="markets", defaults={"description": "money"})[0]
        # (title, state, score, velocity, category, direction, detected minutes, items: (source, language))
        specs = [
            (
                "Chip export rules",
                "viral",
                40.0,
                6.0,
                self.tech,
                0,
                0,
                [("wire", "en"), ("blog", "en"), ("wire", "en")],
            ),
            ("Chip makers respond", "emerging", 25.0, 2.0, self.tech, 0, 30, [("wire", "en")] * 3),
            ("Bond yields climb", "sustained", 30.0, 1.0, self.markets, 5, 60, [("blog", "de")] * 3),
            ("Old story", "dead", 1.0, 0.1, None, 9, -600, [("wire", "en")] * 3),
        ]
        self.trends: list[Trend] = []
        for n, (title, state, score, velocity, category, direction, minutes, items) in enumerate(specs):
            when = T0 + timedelta(minutes=minutes)
            centroid = unit(direction, tilt=direction + 1, amount=0.1 * n)
            topic = Topic.objects.create(
                centroid=centroid,
                item_count=len(items),
                source_count=len({s for s, _ in items}),
                first_seen_at=when,
                last_item_at=when + timedelta(minutes=len(items)),
                keywords=title.lower().split(),
            )
            for k, (source_name, language) in enumerate(items):
                Item.objects.create(
                    source=self.wire if source_name == "wire" else self.blog,
                    external_id=f"{n}-{k}",
                    title=f"{title} #{k}",
                    text=f"Body of {title} number {k}. " * 5,
                    published_at=when + timedelta(minutes=k),
                    language=language,
                    metrics={"points": 10 * (k + 1), "comments": k},
                    topic=topic,
                    category=category,
                    processed_at=when + timedelta(minutes=k),
                )
            trend = Trend.objects.create(
                topic=topic,
                title=title,
                state=state,
                score=score,
                peak_score=score,
                velocity=velocity,
                category=category,
                first_detected_at=when,
                state_changed_at=when,
                updated_at=when + timedelta(hours=1),
            )
            for step in range(3):
                TrendSnapshot.objects.create(
                    trend=trend,
                    taken_at=when + timedelta(minutes=15 * step),
                    score=score * (step + 1) / 3,
                    item_count=step + 1,
                    velocity=velocity,
                )
            self.trends.append(trend)
        self.chips, self.makers, self.bonds, self.old = self.trends


@pytest.fixture
def world(db) -> World:
    return World()


@pytest.fixture
def broker_queue():
    """broker_queue(name): the task messages waiting in a Celery queue on the real Redis broker (emptied
    first), as (task name, task id, args, kwargs)."""
    import base64
    import json

    import redis
    from django.conf import settings

    connection = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    emptied: set[str] = set()

    def read(name: str) -> list[tuple[str, str, list, dict]]:
        messages = []
        for raw in connection.lrange(name, 0, -1):
            message = json.loads(raw)
            args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
            messages.append((message["headers"]["task"], message["headers"]["id"], args, kwargs))
        return messages

    def queue(name: str):
        if name not in emptied:
            connection.delete(name)
            emptied.add(name)
        return lambda: read(name)

    yield queue
    for name in emptied:
        connection.delete(name)
    connection.close()
