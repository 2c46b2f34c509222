"""Feature switches: seeded for operators, honoured by collection, listed and toggled by staff in the API."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient
from waffle.models import Switch

from apps.core.switches import PRODUCT_SWITCHES, switch_on, switch_set
from apps.plugins.collectors import COLLECTORS
from apps.plugins.models import CollectionRun, PluginHealth
from apps.plugins.services import source_collect
from tests.plugins.factories import SourceFactory

# transaction=True: waffle flushes its cache of a switch when the change commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("ops", is_staff=True))
    return client


def test_sync_switches_seeds_every_known_switch_on_and_never_flips_one():
    call_command("sync_switches", stdout=io.StringIO())
    expected = {*PRODUCT_SWITCHES, *(f"collect.{kind}" for kind in COLLECTORS)}
    assert set(Switch.objects.values_list("name", flat=True)) == expected
    assert all(Switch.objects.values_list("active", flat=True))
    switch_set(name="collect.rss", active=False)
    out = io.StringIO()
    call_command("sync_switches", stdout=out)
    assert "Created 0 switch(es)" in out.getvalue()
    assert not switch_on("collect.rss")


def test_a_switched_off_kind_is_skipped_with_the_reason_and_health_is_left_alone():
    rss, other = SourceFactory(kind="rss"), SourceFactory(kind="hackernews")
    switch_set(name="collect.rss", active=False)
    run = source_collect(source=rss, trigger="command", force=True)
    assert run.status == CollectionRun.Status.SKIPPED
    assert "collect.rss" in run.error and "switched off" in run.error
    health = PluginHealth.objects.filter(source=rss).first()
    assert health is None or health.total_runs == 0
    out = io.StringIO()
    call_command("collect", rss.name, stdout=out)
    assert f"{rss.name}: skipped (switched off: feature switch 'collect.rss' is off)" in out.getvalue()
    assert "1 skipped" in out.getvalue()
    # Another kind still collects (and fails here on its unreachable base URL, which is not a skip).
    assert switch_on("collect.hackernews") and other.kind == "hackernews"


@pytest.mark.urls("tests.core.api_urls")
def test_staff_list_and_toggle_switches(staff_client):
    switch_set(name="search.semantic", active=True)
    switch_set(name="collect.rss", active=True)
    listed = staff_client.get("/api/v1/switches/")
    assert listed.status_code == 200
    assert {k: listed.json()[0][k] for k in ("name", "active")} == {"name": "collect.rss", "active": True}
    flipped = staff_client.post("/api/v1/switches/collect.rss/toggle/")
    assert flipped.status_code == 200 and flipped.json()["active"] is False
    assert not switch_on("collect.rss")
    set_on = staff_client.post("/api/v1/switches/collect.rss/toggle/", {"active": True}, format="json")
    assert set_on.json()["active"] is True and switch_on("collect.rss")
    assert staff_client.get("/api/v1/switches/search.semantic/").json()["active"] is True


@pytest.mark.urls("tests.core.api_urls")
def test_switch_api_refuses_bad_input_and_non_staff(staff_client):
    switch_set(name="digests", active=True)
    bad = staff_client.post("/api/v1/switches/digests/toggle/", {"active": "maybe"}, format="json")
    assert bad.status_code == 400 and "active" in bad.json()["fields"]
    assert staff_client.post("/api/v1/switches/no.such/toggle/").status_code == 404
    assert switch_on("digests")
    anonymous = APIClient()
    assert anonymous.get("/api/v1/switches/").status_code in (401, 403)
    reader = APIClient()
    reader.force_authenticate(get_user_model().objects.create_user("reader"))
    assert reader.post("/api/v1/switches/digests/toggle/").status_code == 403
    assert switch_on("digests")
