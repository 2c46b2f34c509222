"""With the broker or the Redis cache down, "Collect now" and `collect` say what is down and stop cleanly."""

import socket
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from apps.plugins.models import CollectionRun
from tests.plugins.factories import SourceFactory
from trendsite.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broker_down(monkeypatch, closed_port):
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{closed_port}/1")
    assert app.conf.broker_url.endswith(f":{closed_port}/1")
    return closed_port


@pytest.fixture
def cache_down(closed_port):
    caches = {"default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{closed_port}/0"}}
    with override_settings(CACHES=caches):
        yield closed_port


def test_collect_now_with_the_broker_down_says_so_and_queues_nothing(admin_client, broker_down):
    source = SourceFactory(name="queued")
    response = admin_client.post(
        reverse("admin:plugins_source_changelist"),
        {"action": "collect_now", "_selected_action": [source.pk]},
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Nothing was queued: the Celery broker at redis://127.0.0.1:{broker_down}/1 is down" in page
    assert "Queued" not in page


@pytest.mark.parametrize("args", [["--all"], ["one"]])
def test_collect_with_redis_down_names_it_and_exits_1(cache_down, args):
    SourceFactory(name="one")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("collect", *args, stdout=out)
    assert f"the Redis cache at redis://127.0.0.1:{cache_down}/0 is down" in str(raised.value)
    assert not CollectionRun.objects.exists()


def test_api_collect_now_shares_the_admin_path_and_answers_503_with_the_broker_down(broker_down):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    source = SourceFactory(name="queued")
    client = APIClient()
    client.force_authenticate(get_user_model().objects.create_user("op", is_staff=True))
    response = client.post(f"/api/v1/sources/{source.name}/collect/")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "SERVICE_UNAVAILABLE"
    assert body["detail"].startswith(f"the Celery broker at redis://127.0.0.1:{broker_down}/1 is down")


def test_a_broker_password_never_shows_in_the_message(monkeypatch, closed_port):
    from apps.core.outage import ServiceDown, broker_require

    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:s3cret-pw@127.0.0.1:{closed_port}/1")
    with pytest.raises(ServiceDown) as caught:
        broker_require()
    assert "s3cret-pw" not in str(caught.value) and f"redis://********@127.0.0.1:{closed_port}/1" in str(caught.value)
