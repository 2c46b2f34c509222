"""Failures are told apart: DNS trouble, timeouts and 5xx are temporary (back off, retry); 404/410, a refused
address or an invalid config are permanent (unhealthy at once, the longest backoff)."""

import socket
import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.core.http import FetchError, http_fetch
from apps.plugins.models import CollectionRun, PluginHealth, Source
from apps.plugins.services import BACKOFF_CAP, source_collect
from tests.plugins.factories import SourceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dns_down(monkeypatch):
    """The resolver answers like a resolver with no upstream ("Temporary failure in name resolution")."""

    def _fail(*args, **kwargs):
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", _fail)


def test_a_dns_failure_is_temporary(dns_down):
    with pytest.raises(FetchError) as raised:
        http_fetch("http://feeds.example.com/rss")
    assert "cannot resolve host" in raised.value.message and not raised.value.permanent


def test_a_resolver_that_hangs_is_bounded_by_the_fetch_deadline(monkeypatch, settings):
    settings.TRENDSITE_FETCH_TOTAL_TIMEOUT = 0.5
    released = threading.Event()

    def _hang(*args, **kwargs):
        released.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", _hang)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"no answer within 0\.5 s") as raised:
            http_fetch("http://feeds.example.com/rss")
    finally:
        released.set()
    assert time.monotonic() - started < 5  # not the resolver's 10 s
    assert not raised.value.permanent


def test_a_refused_address_stays_permanent():
    with pytest.raises(FetchError) as raised:
        http_fetch("http://10.0.0.1/feed")
    assert raised.value.permanent


@pytest.mark.parametrize("status", [500, 502, 504])
def test_5xx_is_temporary_and_backs_off_from_the_poll_interval(httpserver, status):
    httpserver.expect_request("/feed").respond_with_data("down", status=status)
    source = SourceFactory(poll_interval=600, config={"urls": [httpserver.url_for("/feed")]})
    started = timezone.now()
    run = source_collect(source=source)
    source.refresh_from_db()
    assert run.status == CollectionRun.Status.FAILED and "(temporary)" in run.error
    assert source.next_fetch_after - started < timedelta(seconds=600 * 1.21)
    assert PluginHealth.objects.get(source=source).is_healthy  # one temporary failure is not an alarm


@pytest.mark.parametrize("status", [404, 410])
def test_404_and_410_are_permanent_unhealthy_at_once_with_the_longest_backoff(httpserver, status):
    httpserver.expect_request("/feed").respond_with_data("gone", status=status)
    source = SourceFactory(poll_interval=600, config={"urls": [httpserver.url_for("/feed")]})
    started = timezone.now()
    run = source_collect(source=source)
    source.refresh_from_db()
    assert "(permanent)" in run.error
    assert source.next_fetch_after - started >= BACKOFF_CAP - timedelta(seconds=5)
    assert not PluginHealth.objects.get(source=source).is_healthy


def test_a_stored_config_that_became_invalid_fails_permanently_with_its_message():
    source = SourceFactory(kind="hackernews", config={})
    Source.objects.filter(pk=source.pk).update(config={"max_items": 0})  # saved behind the admin's back
    source.refresh_from_db()
    run = source_collect(source=source)
    assert run.status == CollectionRun.Status.FAILED
    assert "invalid config" in run.error and "'max_items' must be 1–500" in run.error and "(permanent)" in run.error
    assert not PluginHealth.objects.get(source=source).is_healthy


def test_a_timeout_is_temporary(httpserver, settings):
    settings.TRENDSITE_FETCH_READ_TIMEOUT = 0.2

    def _slow(request):
        import time

        from werkzeug import Response

        time.sleep(1)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(_slow)
    with pytest.raises(FetchError) as raised:
        http_fetch(httpserver.url_for("/slow"))
    assert "timed out" in raised.value.message and not raised.value.permanent


def test_collect_all_dry_run_prints_a_summary_like_a_real_run(serve, httpserver):
    SourceFactory(name="good", config={"urls": [serve("/feed", "rss2_bbc.xml")]})
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    SourceFactory(name="gone", config={"urls": [httpserver.url_for("/gone")]})
    out = StringIO()
    with pytest.raises(CommandError, match="Failed: gone"):
        call_command("collect", "--all", "--dry-run", stdout=out)
    text = out.getvalue()
    assert "good: would store fetched=3" in text
    assert "gone: would fail (permanent): HTTP 410" in text
    assert "Done (dry run, nothing stored)! 2 sources: 1 ok, 1 failed, 0 skipped." in text
    assert not CollectionRun.objects.exists()
