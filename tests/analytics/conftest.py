"""A small known world for analytics and the console: two sources, five items, three trends, runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from apps.plugins.models import CollectionRun, Source
from apps.trends.models import Category, Item, PipelineRun, Topic, Trend

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass
class World:
    hn: Source
    rss: Source
    trends: list[Trend]


@pytest.fixture
def world(db) -> World:
    hn = Source.objects.create(name="hn", kind="hackernews")
    rss = Source.objects.create(name="news", kind="rss", config={"urls": ["http://127.0.0.1:9/f"]})
    tech = Category.objects.get_or_create(name="Technology", defaults={"description": "tech"})[0]
    # Items: 3 from hn in the last day (en, en, de), 1 from news in the last day (no language), 1 old one.
    for index, (source, hours_ago, language) in enumerate(
        [(hn, 1, "en"), (hn, 2, "en"), (hn, 23, "de"), (rss, 5, ""), (rss, 30, "en")]
    ):
        Item.objects.create(
            source=source,
            external_id=f"i{index}",
            title=f"item {index}",
            language=language,
            collected_at=NOW - timedelta(hours=hours_ago),
        )
    trends = []
    for title, state, score, velocity, items, category in [
        ("Alpha", Trend.State.VIRAL, 9.0, 4.0, 6, tech),
        ("Beta", Trend.State.EMERGING, 3.0, 1.0, 3, None),
        ("Gamma", Trend.State.DEAD, 0.5, 0.0, 10, tech),
    ]:
        topic = Topic.objects.create(item_count=items, source_count=1)
        trends.append(
            Trend.objects.create(
                topic=topic, title=title, state=state, score=score, velocity=velocity, category=category
            )
        )
    # Runs in the last day: hn 2 ok (5 + 2 new) and 1 failed; news 1 not modified and 1 skipped; one old hn run.
    for source, hours_ago, status, new in [
        (hn, 1, CollectionRun.Status.SUCCESS, 5),
        (hn, 2, CollectionRun.Status.SUCCESS, 2),
        (hn, 3, CollectionRun.Status.FAILED, 0),
        (rss, 4, CollectionRun.Status.NOT_MODIFIED, 0),
        (rss, 4.5, CollectionRun.Status.SKIPPED, 0),
        (hn, 40, CollectionRun.Status.SUCCESS, 100),
    ]:
        CollectionRun.objects.create(
            source=source,
            started_at=NOW - timedelta(hours=hours_ago),
            status=status,
            new_count=new,
            error="boom" if status == CollectionRun.Status.FAILED else "",
        )
    for hours_ago, seconds, count, status in [
        (1, 10, 100, PipelineRun.Status.SUCCESS),
        (2, 30, 50, PipelineRun.Status.FAILED),
        (50, 10, 1000, PipelineRun.Status.SUCCESS),
    ]:
        started = NOW - timedelta(hours=hours_ago)
        PipelineRun.objects.create(
            workflow="full",
            status=status,
            started_at=started,
            finished_at=started + timedelta(seconds=seconds),
            item_count=count,
        )
    return World(hn=hn, rss=rss, trends=trends)
