"""The admin: staff see and create everyone's watchlists; a non-staff user has no admin (the API is theirs)."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from apps.alerts.models import MuteTerm, Watchlist
from tests.alerts.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def _form(user, channels, **extra):
    return {
        "user": user.pk,
        "name": "chips",
        "keywords": '["chip"]',
        "categories": "[]",
        "sources": "[]",
        "languages": "[]",
        "min_state": "emerging",
        "min_score": "0",
        "mute": "[]",
        "channels": [c.pk for c in channels],
        "enabled": "on",
        **extra,
    }


def test_staff_create_a_watchlist_for_a_user_with_that_users_channels(staff_client):
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456789")
    channel = ChannelFactory(user=ann)
    answer = staff_client.post("/admin/alerts/watchlist/add/", _form(ann, [channel]))
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    watchlist = Watchlist.objects.get()
    assert watchlist.user == ann and list(watchlist.channels.all()) == [channel]
    assert watchlist.keyword_queries == ["'chip'"]
    listing = staff_client.get("/admin/alerts/watchlist/")
    assert listing.status_code == 200 and b"chips" in listing.content


def test_admin_refuses_another_users_channel_on_a_watchlist(staff_client):
    ann = get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456789")
    bob = get_user_model().objects.create_user("bob", "bob@example.com", "pw-123456789")
    answer = staff_client.post("/admin/alerts/watchlist/add/", _form(ann, [ChannelFactory(user=bob)]))
    assert answer.status_code == 200 and not Watchlist.objects.exists()
    assert answer.context["adminform"].form.errors["channels"] == [
        "A watchlist sends to its owner's channels only; not theirs: "
        + Watchlist.channels.field.related_model.objects.get().name
    ]


def test_a_non_staff_user_cannot_use_the_admin():
    get_user_model().objects.create_user("ann", "ann@example.com", "pw-123456789")
    client = Client()
    client.login(username="ann", password="pw-123456789")
    answer = client.get("/admin/alerts/watchlist/add/")
    assert answer.status_code == 302 and "/login/" in answer["Location"]


def test_mute_terms_pages_and_match_log_load(staff_client):
    MuteTerm.objects.create(term='"celebrity gossip"')
    assert MuteTerm.objects.get().query == "'celebr' <-> 'gossip'"
    for path in ("/admin/alerts/muteterm/", "/admin/alerts/watchmatch/", "/admin/alerts/channel/?user__isempty=0"):
        assert staff_client.get(path).status_code == 200
