"""sources/: health and last runs for everyone, credentials masked; staff create, update, enable, collect."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.plugins.config_secrets import MASK
from apps.plugins.models import CollectionRun, PluginHealth, Source

pytestmark = pytest.mark.django_db


@pytest.fixture
def youtube(db) -> Source:
    source = Source.objects.create(
        name="yt", kind="youtube", config={"api_key": "AIza-very-secret", "region_code": "DE"}
    )
    now = timezone.now()
    for n in range(7):
        CollectionRun.objects.create(
            source=source, started_at=now - timedelta(minutes=n), status="success" if n else "failed", new_count=n
        )
    PluginHealth.objects.filter(source=source).update(
        is_healthy=False, consecutive_failures=3, total_runs=7, total_failures=3, last_error="HTTP 403"
    )
    return source


def test_list_shows_health_last_runs_and_no_config_to_anonymous_readers(anon, youtube, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = anon.get("/api/v1/sources/")
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert "config" not in row and row["name"] == "yt" and row["kind"] == "youtube"
    assert b"AIza-very-secret" not in response.content and b"region_code" not in response.content
    assert row["health"]["is_healthy"] is False and row["health"]["last_error"] == "HTTP 403"
    assert [run["new_count"] for run in row["last_runs"]] == [0, 1, 2, 3, 4]
    assert row["last_runs"][0]["status"] == "failed"


def test_staff_see_the_config_with_credentials_masked(staff, youtube):
    (row,) = staff.get("/api/v1/sources/").json()["results"]
    assert row["config"] == {"api_key": MASK, "region_code": "DE"}


def test_detail_by_name_and_filters(anon, youtube, world):
    assert anon.get("/api/v1/sources/yt/").json()["kind"] == "youtube"
    assert [s["name"] for s in anon.get("/api/v1/sources/", {"healthy": "false"}).json()["results"]] == ["yt"]
    assert [s["name"] for s in anon.get("/api/v1/sources/", {"kind": "file"}).json()["results"]] == ["blog", "wire"]
    assert anon.get("/api/v1/sources/", {"kind": "carrier-pigeon"}).status_code == 400
    assert anon.get("/api/v1/sources/nope/").status_code == 404


def test_staff_create_validates_config_like_the_admin(staff):
    bad = staff.post(
        "/api/v1/sources/", {"name": "hn", "kind": "hackernews", "config": {"max_items": 5000}}, format="json"
    )
    assert bad.status_code == 400
    body = bad.json()
    assert body["code"] == "VALIDATION_ERROR"
    assert body["fields"]["config"] == ["Source 'hn' config: 'max_items' must be 1–500, got 5000"]
    assert body["detail"] == "config: Source 'hn' config: 'max_items' must be 1–500, got 5000"
    assert not Source.objects.filter(name="hn").exists()

    made = staff.post(
        "/api/v1/sources/", {"name": "hn", "kind": "hackernews", "config": {"max_items": 50}}, format="json"
    )
    assert made.status_code == 201, made.json()
    source = Source.objects.get(name="hn")
    assert source.config == {"max_items": 50} and source.periodic_task is not None  # the schedule follows


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "Not A Slug!", "kind": "rss", "config": {"urls": ["https://e.example/f"]}}, "name"),
        ({"name": "x", "kind": "fax", "config": {}}, "kind"),
        ({"name": "x", "kind": "rss", "config": "urls"}, "config"),
        ({"name": "x", "kind": "rss", "config": {"urls": []}}, "config"),
        (
            {"name": "x", "kind": "rss", "config": {"urls": ["https://e.example/f"]}, "poll_interval": 0},
            "poll_interval",
        ),
    ],
)
def test_create_rejects_bad_input_with_400(staff, payload, field):
    response = staff.post("/api/v1/sources/", payload, format="json")
    assert response.status_code == 400 and field in response.json()["fields"]


def test_duplicate_name_is_400(staff, world):
    response = staff.post("/api/v1/sources/", {"name": "wire", "kind": "file", "config": {}}, format="json")
    assert response.status_code == 400 and "name" in response.json()["fields"]


def test_update_keeps_a_masked_credential_and_replaces_a_new_one(staff, youtube):
    kept = staff.patch("/api/v1/sources/yt/", {"config": {"api_key": MASK, "region_code": "FR"}}, format="json")
    assert kept.status_code == 200 and kept.json()["config"]["api_key"] == MASK
    youtube.refresh_from_db()
    assert youtube.config == {"api_key": "AIza-very-secret", "region_code": "FR"}
    staff.patch("/api/v1/sources/yt/", {"config": {"api_key": "AIza-rotated"}}, format="json")
    youtube.refresh_from_db()
    assert youtube.config == {"api_key": "AIza-rotated"}


def test_update_with_a_mask_for_a_credential_never_stored_is_400(staff, world):
    Source.objects.create(name="yt2", kind="youtube", config={})
    response = staff.patch("/api/v1/sources/yt2/", {"config": {"api_key": MASK}}, format="json")
    assert response.status_code == 400 and "no value is stored" in response.json()["detail"]


def test_poll_interval_change_moves_the_schedule(staff, youtube):
    assert staff.patch("/api/v1/sources/yt/", {"poll_interval": 120}, format="json").status_code == 200
    youtube.refresh_from_db()
    assert youtube.poll_interval == 120 and youtube.periodic_task.interval.every == 120


def test_a_stored_config_that_no_longer_validates_must_be_fixed_on_update(staff, world):
    response = staff.patch("/api/v1/sources/wire/", {"poll_interval": 120}, format="json")
    assert response.status_code == 400 and "config" in response.json()["fields"]


def test_enable_and_disable_follow_the_schedule(staff, world):
    body = staff.post("/api/v1/sources/wire/disable/").json()
    world.wire.refresh_from_db()
    assert body["enabled"] is False and world.wire.periodic_task.enabled is False
    assert staff.post("/api/v1/sources/wire/enable/").json()["enabled"] is True


def test_collect_queues_the_task_and_returns_its_id(staff, world, broker_queue, django_capture_on_commit_callbacks):
    waiting = broker_queue("collect")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/api/v1/sources/wire/collect/")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert response.json()["source"] == "wire"
    assert waiting() == [
        ("apps.plugins.tasks.source_collect", task_id, [world.wire.pk], {"trigger": "api", "force": True})
    ]


FEED = "https://reader:hunter2@feeds.example/private.xml?token=tok-123456&lang=en"


def test_feed_urls_with_credentials_are_masked_for_staff_and_absent_for_readers(anon, staff):
    Source.objects.create(name="private", kind="rss", config={"urls": [FEED]})
    shown = staff.get("/api/v1/sources/private/").json()["config"]["urls"]
    assert shown == [f"https://{MASK}@feeds.example/private.xml?token={MASK}&lang=en"]
    assert "config" not in anon.get("/api/v1/sources/private/").json()
    for client in (anon, staff):
        body = client.get("/api/v1/sources/").content
        assert b"hunter2" not in body and b"tok-123456" not in body


def test_a_masked_feed_url_sent_back_keeps_the_stored_one(staff):
    source = Source.objects.create(name="private", kind="rss", config={"urls": [FEED]})
    shown = staff.get("/api/v1/sources/private/").json()["config"]
    more = {"urls": [*shown["urls"], "https://open.example/feed"]}
    assert staff.patch("/api/v1/sources/private/", {"config": more}, format="json").status_code == 200
    source.refresh_from_db()
    assert source.config == {"urls": [FEED, "https://open.example/feed"]}


def test_a_masked_feed_url_moved_to_another_host_must_be_entered_again(staff):
    source = Source.objects.create(name="private", kind="rss", config={"urls": [FEED]})
    moved = f"https://{MASK}@evil.example/private.xml?token={MASK}&lang=en"
    response = staff.patch("/api/v1/sources/private/", {"config": {"urls": [moved]}}, format="json")
    assert response.status_code == 400
    assert "a masked URL that matches no stored one; enter the URL with its credentials" in response.json()["detail"]
    source.refresh_from_db()
    assert source.config == {"urls": [FEED]}


def test_changing_base_url_while_the_token_shows_the_mask_is_refused(staff):
    source = Source.objects.create(
        name="x", kind="twitter", config={"queries": ["ai"], "bearer_token": "AAAA-secret-token"}
    )
    moved = {"queries": ["ai"], "bearer_token": MASK, "base_url": "https://collector.evil.example/2"}
    response = staff.patch("/api/v1/sources/x/", {"config": moved}, format="json")
    assert response.status_code == 400
    assert "re-enter bearer_token: the destination changed" in response.json()["detail"]
    source.refresh_from_db()
    assert "base_url" not in source.config

    entered = {**moved, "bearer_token": "BBBB-token-for-the-new-host"}
    assert staff.patch("/api/v1/sources/x/", {"config": entered}, format="json").status_code == 200
    same_host = {**moved, "bearer_token": MASK, "base_url": "https://collector.evil.example/3"}
    assert staff.patch("/api/v1/sources/x/", {"config": same_host}, format="json").status_code == 200


def test_a_token_from_the_environment_is_not_sent_to_a_new_base_url_either(staff, monkeypatch):
    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "env-token-123456")
    payload = {"name": "x", "kind": "twitter", "config": {"queries": ["ai"], "base_url": "https://evil.example/2"}}
    response = staff.post("/api/v1/sources/", payload, format="json")
    assert response.status_code == 400 and "re-enter bearer_token" in response.json()["detail"]
    payload["config"]["base_url"] = "https://api.x.com/2"  # the default host: where the token belongs
    assert staff.post("/api/v1/sources/", payload, format="json").status_code == 201
