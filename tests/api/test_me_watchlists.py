"""/api/v1/me/…: any signed-in user keeps their own watchlists and channels; nobody else's is visible."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from apps.alerts.batching import batches_flush
from apps.alerts.models import Channel, Watchlist
from apps.alerts.services import alerts_dispatch, notification_send
from apps.core.models import Event
from apps.core.services import event_emit
from tests.alerts.conftest import parts, smtp_server  # noqa: F401 - the real SMTP server fixture
from tests.alerts.factories import TrendFactory

pytestmark = pytest.mark.django_db
WATCHLIST = {
    "name": "chips",
    "keywords": ['"chip export"', "semiconductor -sports"],
    "categories": [],
    "sources": [],
    "languages": ["en"],
    "min_state": "viral",
    "min_score": 2.5,
    "mute": ["rumour"],
    "digest": False,
}


def _client(name, **extra):
    user = get_user_model().objects.create_user(name, f"{name}@example.com", "pw-123456789", **extra)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return user, client


@pytest.fixture
def ann():
    return _client("ann")


@pytest.fixture
def bob():
    return _client("bob")


def test_a_non_staff_user_creates_a_channel_and_a_watchlist_with_the_documented_fields(ann):
    user, client = ann
    channel = client.post(
        "/api/v1/me/channels/",
        {"name": "ann-mail", "kind": "email", "config": {"to": ["ann@example.com"]}, "batch_minutes": 5},
        format="json",
    )
    assert channel.status_code == 201, channel.json()
    assert set(channel.json()) == {"id", "name", "kind", "config", "batch_minutes"}
    created = client.post("/api/v1/me/watchlists/", {**WATCHLIST, "channels": [channel.json()["id"]]}, format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert set(body) == {*WATCHLIST, "id", "channels"}
    assert body["channels"] == [channel.json()["id"]] and body["keywords"] == WATCHLIST["keywords"]
    assert Watchlist.objects.get().user == user and Channel.objects.get().user == user


def test_another_users_watchlists_channels_and_matches_answer_404(ann, bob):
    _, ann_client = ann
    _, bob_client = bob
    channel = ann_client.post(
        "/api/v1/me/channels/", {"name": "ann-log", "kind": "console", "config": {}}, format="json"
    )
    watchlist = ann_client.post("/api/v1/me/watchlists/", WATCHLIST, format="json").json()
    for path in (f"/api/v1/me/watchlists/{watchlist['id']}/", f"/api/v1/me/channels/{channel.json()['id']}/"):
        assert bob_client.get(path).status_code == 404
        assert bob_client.patch(path, {"name": "mine-now"}, format="json").status_code == 404
        assert bob_client.delete(path).status_code == 404
    assert bob_client.post(f"/api/v1/me/channels/{channel.json()['id']}/test/").status_code == 404
    assert bob_client.get("/api/v1/me/watchlists/").json()["results"] == []
    assert bob_client.get("/api/v1/me/channels/").json()["results"] == []
    assert ann_client.get(f"/api/v1/me/watchlists/{watchlist['id']}/").status_code == 200


def test_a_watchlist_cannot_name_another_users_channel(ann, bob):
    _, ann_client = ann
    _, bob_client = bob
    bobs = bob_client.post("/api/v1/me/channels/", {"name": "bob-log", "kind": "console", "config": {}}, format="json")
    answer = ann_client.post("/api/v1/me/watchlists/", {**WATCHLIST, "channels": [bobs.json()["id"]]}, format="json")
    assert answer.status_code == 400 and "channels" in answer.json()["fields"]
    assert not Watchlist.objects.exists()


def test_email_channels_of_users_go_to_their_own_address_only(ann):
    _, client = ann
    answer = client.post(
        "/api/v1/me/channels/",
        {"name": "spam", "kind": "email", "config": {"to": ["victim@example.org"]}},
        format="json",
    )
    assert answer.status_code == 400
    assert "victim@example.org" in str(answer.json())


def test_bad_watchlist_fields_answer_400_with_the_reason(ann):
    _, client = ann
    stop_words = client.post("/api/v1/me/watchlists/", {**WATCHLIST, "keywords": ["the"]}, format="json")
    dead = client.post("/api/v1/me/watchlists/", {**WATCHLIST, "min_state": "dead"}, format="json")
    assert stop_words.status_code == dead.status_code == 400
    assert stop_words.json()["fields"]["keywords"] == [
        "'keywords' entry 'the' has no searchable word (stop words only)"
    ]
    assert "min_state" in dead.json()["fields"]


def test_anonymous_gets_401_or_403():
    assert APIClient().get("/api/v1/me/watchlists/").status_code in (401, 403)


def test_send_me_a_test_message_over_my_channel(ann, smtp_server):  # noqa: F811
    _, client = ann
    channel = client.post(
        "/api/v1/me/channels/",
        {"name": "ann-mail", "kind": "email", "config": {"to": ["ann@example.com"]}},
        format="json",
    ).json()
    answer = client.post(f"/api/v1/me/channels/{channel['id']}/test/")
    assert answer.status_code == 200 and answer.json() == {"sent": True}
    [received] = smtp_server
    assert received["To"] == "ann@example.com"


def test_done_when_a_user_gets_a_batched_message_and_sees_the_match(ann, smtp_server):  # noqa: F811
    _, client = ann
    channel = client.post(
        "/api/v1/me/channels/",
        {"name": "ann-mail", "kind": "email", "config": {"to": ["ann@example.com"]}, "batch_minutes": 1},
        format="json",
    ).json()
    client.post(
        "/api/v1/me/watchlists/", {"name": "chips", "keywords": ["chip"], "channels": [channel["id"]]}, format="json"
    )
    trend = TrendFactory(title="Chip export ban widens", score=7.0)
    event_emit(kind=Event.Kind.TREND_STATE_CHANGED, subject=trend, payload={"from": "emerging", "to": "viral"})
    alerts_dispatch(enqueue=False)
    for notification_id in batches_flush(now=timezone.now() + timedelta(minutes=2), enqueue=False).notification_ids:
        notification_send(notification_id=notification_id)
    [received] = smtp_server
    assert "Chip export ban widens (viral, 7.00) — chips" in parts(received)["text/plain"]
    [match] = client.get("/api/v1/me/matches/").json()["results"]
    assert match["trend"] == trend.pk and match["state"] == "viral"


def test_browsable_api_offers_a_form_with_only_my_channels(ann, bob):
    user, client = ann
    _, bob_client = bob
    client.post("/api/v1/me/channels/", {"name": "ann-log", "kind": "console", "config": {}}, format="json")
    bob_client.post("/api/v1/me/channels/", {"name": "bob-log", "kind": "console", "config": {}}, format="json")
    browser = APIClient()
    browser.force_login(user)
    page = browser.get("/api/v1/me/watchlists/", HTTP_ACCEPT="text/html")
    html = page.content.decode()
    assert page.status_code == 200 and "<form" in html and 'name="keywords"' in html
    assert "ann-log" in html and "bob-log" not in html


def test_an_operators_rule_cannot_send_to_a_users_channel(ann, staff):
    _, client = ann
    client.post("/api/v1/me/channels/", {"name": "ann-log", "kind": "console", "config": {}}, format="json")
    answer = staff.post("/api/v1/alerts/rules/", {"name": "all", "channels": ["ann-log"]}, format="json")
    assert answer.status_code == 400 and "channels" in answer.json()["fields"]
