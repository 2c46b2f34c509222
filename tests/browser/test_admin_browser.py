"""A real browser (Debian's headless Chromium driven by Playwright) walks the console and the admin pages an
operator uses first; it fails on any console error and on markup smuggled in through a title."""

from __future__ import annotations

import os
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db.models import Count
from django.utils import timezone

from apps.analytics.services import analytics_snapshot_create
from apps.plugins.models import CollectionRun, PluginHealth, Source
from apps.trends.models import Item, PipelineRun, Topic, Trend, TrendSnapshot

CHROMIUM = Path("/usr/bin/chromium")
SCREENS = Path(__file__).resolve().parents[2] / ".artifacts" / "screens"
# Never let a headless run reach out: no updates, no sync, no background fetches.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
HOSTILE = "<img src=x onerror=alert(1)>"
ERROR_COLUMNS = {"sources": "field-last_error_excerpt", "runs": "field-error_excerpt"}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="no /usr/bin/chromium: `make install` installs Debian's chromium package when run as root with apt",
)


@pytest.fixture
def site_data(transactional_db):
    now = timezone.now()
    source = Source.objects.create(name="hostile-feed", kind="rss", config={"urls": ["http://127.0.0.1:9/f"]})
    PluginHealth.objects.filter(source=source).update(
        is_healthy=False, consecutive_failures=4, total_runs=6, last_error=f"parse error near {HOSTILE} " * 8
    )
    Source.objects.create(name="quiet-feed", kind="rss", config={"urls": ["http://127.0.0.1:9/g"]})
    topic = Topic.objects.create(item_count=3, source_count=1, first_seen_at=now, last_item_at=now)
    for index in range(3):
        Item.objects.create(
            source=source,
            external_id=f"h{index}",
            title=HOSTILE if index == 0 else f"Calm story {index}",
            topic=topic,
            collected_at=now - timedelta(hours=index),
            language="en",
        )
    trend = Trend.objects.create(topic=topic, title=HOSTILE, state="viral", score=145.00000000000003, velocity=3.3)
    for minutes, score in [(90, 20.0), (60, 60.0), (30, 110.0), (0, 145.0)]:
        TrendSnapshot.objects.create(
            trend=trend, taken_at=now - timedelta(minutes=minutes), score=score, item_count=3, velocity=2
        )
    for hours_ago, status, new in [(0, "success", 12), (1, "failed", 0), (2, "success", 30), (5, "success", 7)]:
        CollectionRun.objects.create(
            source=source,
            started_at=now - timedelta(hours=hours_ago),
            status=status,
            new_count=new,
            error=f"HTTP 500 {HOSTILE}" if status == "failed" else "",
        )
    PipelineRun.objects.create(
        workflow="full",
        status="success",
        started_at=now - timedelta(minutes=3),
        finished_at=now - timedelta(minutes=2),
        item_count=42,
    )
    for hours_ago in (2, 1, 0):
        analytics_snapshot_create(period="24h", now=now - timedelta(hours=hours_ago))
    User.objects.create_superuser("ops", "ops@example.com", "pw")
    return trend


def test_operator_walks_the_console_and_admin_pages(live_server, site_data, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls above are done by now.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    pages = {
        "console": "/admin/",
        "sources": "/admin/plugins/source/",
        "trends": "/admin/trends/trend/",
        "trend": f"/admin/trends/trend/{site_data.pk}/change/",
        "topic": f"/admin/trends/topic/{site_data.topic_id}/change/",
        "items": "/admin/trends/item/",
        "source": f"/admin/plugins/source/{Source.objects.get(name='hostile-feed').pk}/change/",
        "runs": "/admin/plugins/collectionrun/",
    }
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("console", lambda message: message.type == "error" and problems.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ops")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        for name, path in pages.items():
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, name
            page.wait_for_load_state("load")
            assert page.locator('img[src="x"]').count() == 0, f"{name}: a title became markup"
            page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
            if name in ERROR_COLUMNS:
                # The reason a run failed is in view without scrolling the table sideways.
                cell = page.locator(f"td.{ERROR_COLUMNS[name]}").first.bounding_box()
                visible = page.locator("#changelist .results").bounding_box()
                assert cell["x"] + cell["width"] <= visible["x"] + visible["width"], f"{name}: error column hidden"
            # Nothing wider than the window: the page must not scroll sideways at 1,400 px.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name}: {overflow}px wider than the window"
        console_text = page.goto(f"{live_server.url}/admin/") and page.inner_text("body")
        page.emulate_media(color_scheme="dark")  # the admin follows the system theme; the console must too
        page.screenshot(path=str(SCREENS / "console-dark.png"), full_page=True)
        browser.close()
    assert HOSTILE in console_text  # shown as text, not run
    assert "145.00000000000003" not in console_text
    assert problems == []
    assert os.path.getsize(SCREENS / "console.png") > 10_000


def test_the_demo_console_and_a_trend_page_as_a_newcomer_sees_them(live_server, transactional_db, monkeypatch):
    from django.core.management import call_command
    from playwright.sync_api import sync_playwright

    call_command("bootstrap_local", stdout=StringIO())
    User.objects.create_superuser("ops", "ops@example.com", "pw")
    # The story with the longest history: its page shows what the backfill gives.
    trend = Trend.objects.annotate(n=Count("snapshots")).order_by("-n", "-score").first()
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "ops")
        page.fill("#id_password", "pw")
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.screenshot(path=str(SCREENS / "demo-console.png"), full_page=True)
        console_text = page.inner_text("body")
        page.goto(f"{live_server.url}/admin/trends/trend/{trend.pk}/change/")
        page.screenshot(path=str(SCREENS / "demo-trend.png"), full_page=True)
        browser.close()
    assert "Not enough history" not in console_text
    assert "Largest topics, last 24 h" in console_text
