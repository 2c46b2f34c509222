"""The Apprise channel kind against real peers: Apprise's own json:// and ntfy:// plugins sending to a local
HTTP server that records what it gets; the address guard in front of every request Apprise makes."""

import json
import time

import pytest
import requests
from django.core.exceptions import ValidationError
from werkzeug import Response

from apps.alerts import channel_config
from apps.alerts.models import Notification
from apps.alerts.services import channel_test_send, notification_send
from apps.alerts.transports import AlertMessage, TransportError, transport_for
from apps.alerts.transports import apprise as apprise_transport
from apps.core.config_secrets import MASK
from tests.alerts.factories import ChannelFactory

pytestmark = pytest.mark.django_db

MESSAGE = AlertMessage(
    event_kind="trend.state_changed",
    title="Fusion startup raises $1bn",
    text="Investors pile in.",
    severity="warning",
    fields=[("State", "viral")],
    link="http://127.0.0.1:8000/admin/trends/trend/7/change/",
)


def _address(httpserver) -> str:
    return f"{httpserver.host}:{httpserver.port}"


def _notification(channel) -> Notification:
    return Notification.objects.create(
        channel=channel, event_kind=MESSAGE.event_kind, dedup_key=f"k{time.monotonic_ns()}", message=MESSAGE.to_dict()
    )


def test_apprise_json_url_delivers_title_and_body_to_a_local_receiver(httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})

    transport_for(channel).send(MESSAGE)

    [(request, _)] = httpserver.log
    payload = json.loads(request.data)
    assert payload["title"] == "[WARNING] Fusion startup raises $1bn"
    assert payload["message"] == f"Investors pile in.\nState: viral\n{MESSAGE.link}"
    assert payload["type"] == "warning"


def test_apprise_sends_to_every_url_ntfy_included(httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    httpserver.expect_request("/", method="POST").respond_with_json({"id": "x"})
    urls = [f"json://{_address(httpserver)}/hook", f"ntfy://{_address(httpserver)}/trend-alerts"]
    channel = ChannelFactory(kind="apprise", config={"urls": urls})

    channel_test_send(channel=channel)

    paths = sorted(request.path for request, _ in httpserver.log)
    assert paths == ["/", "/hook"]
    [ntfy] = [json.loads(request.data) for request, _ in httpserver.log if request.path == "/"]
    assert ntfy["topic"] == "trend-alerts" and ntfy["title"].startswith("[INFO] ")
    channel.refresh_from_db()
    assert channel.last_sent_at is not None and channel.last_error == ""


def test_apprise_401_revoked_token_disables_the_channel_with_the_reason(httpserver):
    httpserver.expect_request("/", method="POST").respond_with_json({"code": 40101, "error": "unauthorized"}, 401)
    token = "tk_revoked0123456789secret"
    channel = ChannelFactory(kind="apprise", config={"urls": [f"ntfy://{token}@{_address(httpserver)}/alerts"]})
    first, later = _notification(channel), _notification(channel)

    outcome = notification_send(notification_id=first.pk)
    after = notification_send(notification_id=later.pk)

    channel.refresh_from_db()
    assert outcome.status == "failed" and not channel.enabled
    assert channel.disabled_reason == (
        f"ntfy://{httpserver.host} answered HTTP 401: the credential or destination is gone"
    )
    assert token not in channel.disabled_reason and token not in channel.last_error
    assert (after.status, after.detail) == ("suppressed", "channel disabled")
    assert len(httpserver.log) == 1


def test_apprise_429_retries_after_header_and_delivers_once(httpserver, settings):
    settings.ALERTS_MAX_ATTEMPTS = 5
    httpserver.expect_ordered_request("/hook").respond_with_response(
        Response("slow down", status=429, headers={"Retry-After": "2"})
    )
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})
    notification = _notification(channel)

    first = notification_send(notification_id=notification.pk)
    assert first.status == "retry" and 1 <= (first.retry_at - notification.created_at).total_seconds() <= 4
    time.sleep((first.retry_at - notification.created_at).total_seconds() + 0.2)
    second = notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (second.status, notification.status, notification.attempts) == ("sent", "sent", 2)
    assert len(httpserver.log) == 2
    channel.refresh_from_db()
    assert channel.enabled


def test_apprise_500_is_temporary_and_keeps_the_channel(httpserver):
    httpserver.expect_request("/hook").respond_with_data("oops", status=500)
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})
    with pytest.raises(TransportError) as caught:
        transport_for(channel).send(MESSAGE)
    assert not caught.value.permanent and "HTTP 500" in caught.value.message


def test_apprise_loopback_is_refused_before_any_request_unless_allow_listed(httpserver, settings):
    httpserver.expect_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})
    settings.TRENDSITE_OUTBOUND_ALLOW = []

    with pytest.raises(TransportError) as refused:
        transport_for(channel).send(MESSAGE)

    assert refused.value.disable and "loopback, private, link-local" in refused.value.message
    assert len(httpserver.log) == 0


@pytest.mark.parametrize("host", ["169.254.169.254", "10.0.0.7", "192.168.1.1", "[::1]", "[fd00::1]"])
def test_apprise_private_and_metadata_addresses_are_refused(host, settings):
    settings.TRENDSITE_OUTBOUND_ALLOW = []
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{host}/latest/meta-data"]})
    started = time.monotonic()
    with pytest.raises(TransportError) as refused:
        transport_for(channel).send(MESSAGE)
    assert refused.value.disable and "refused to connect" in refused.value.message
    assert time.monotonic() - started < 2  # refused before connecting, not after a connect timeout


def test_apprise_redirect_is_not_followed(httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data"})
    )
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})
    with pytest.raises(TransportError) as caught:
        transport_for(channel).send(MESSAGE)
    assert caught.value.permanent and "redirects are not followed" in caught.value.message
    assert len(httpserver.log) == 1


def test_apprise_slow_receiver_meets_the_time_limit(httpserver, monkeypatch):
    monkeypatch.setattr(apprise_transport, "TOTAL_SECONDS", 1.0)

    def slow(request):
        time.sleep(3)
        return Response("ok")

    httpserver.expect_request("/hook").respond_with_handler(slow)
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://{_address(httpserver)}/hook"]})
    started = time.monotonic()
    with pytest.raises(TransportError) as caught:
        transport_for(channel).send(MESSAGE)
    assert time.monotonic() - started < 2.5
    assert not caught.value.permanent


def test_apprise_guard_is_inert_outside_a_send(httpserver, settings):
    # Other users of requests in the process (none today) are not held to a channel's rules.
    settings.TRENDSITE_OUTBOUND_ALLOW = []
    httpserver.expect_request("/plain").respond_with_data("ok")
    assert requests.get(httpserver.url_for("/plain"), timeout=5).text == "ok"


@pytest.mark.parametrize(
    ("urls", "message"),
    [
        (
            [],
            "Channel 'c' config: 'urls' must be a non-empty list of Apprise URLs, "
            'e.g. ["ntfy://ntfy.example.com/alerts"]',
        ),
        (["mailtos://user:hunter2pass@smtp.example.com"], "entry 1: scheme 'mailtos' is refused: its target cannot"),
        (["mqtt://user:hunter2pass@broker.example.com/topic"], "entry 1: scheme 'mqtt' is refused"),
        (["hunter2pass"], "Channel 'c' config: 'urls' entry 1 is not an Apprise URL (scheme://...)"),
    ],
)
def test_apprise_config_refuses_schemes_whose_target_cannot_be_checked(urls, message):
    with pytest.raises(ValidationError) as caught:
        channel_config.channel_config_validate(kind="apprise", name="c", config={"urls": urls})
    [line] = caught.value.messages
    assert message in line
    assert "hunter2pass" not in line


def test_apprise_urls_are_masked_and_the_mask_keeps_them():
    stored = {"urls": ["ntfy://tk_abc0123456789@ntfy.example.com/alerts", "discord://1234/webhooktoken"]}
    assert channel_config.channel_config_masked(kind="apprise", config=stored) == {"urls": MASK}
    restored = channel_config.channel_config_restore(name="c", kind="apprise", config={"urls": MASK}, stored=stored)
    assert restored == stored
    assert channel_config.channel_config_validate(kind="apprise", name="c", config=restored) == stored


def test_apprise_connects_to_the_checked_address_when_a_second_lookup_would_rebind(httpserver, settings, monkeypatch):
    # DNS rebinding: the name's first answer passes the guard, a later one points at an address the guard
    # refuses. The request must reach the address that was checked, never the second answer.
    import http.server
    import socket
    import threading

    settings.TRENDSITE_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    hits: list[str] = []

    class Internal(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    internal = http.server.ThreadingHTTPServer(("127.0.0.2", httpserver.port), Internal)
    threading.Thread(target=internal.serve_forever, daemon=True).start()
    real_lookup = socket.getaddrinfo
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 10)

    def rebinding_lookup(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real_lookup(next(answers), port, *args, **kwargs)
        return real_lookup(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_lookup)
    channel = ChannelFactory(kind="apprise", config={"urls": [f"json://rebind.example:{httpserver.port}/hook"]})
    try:
        transport_for(channel).send(MESSAGE)
    finally:
        internal.shutdown()
        internal.server_close()

    assert [request.path for request, _ in httpserver.log] == ["/hook"]
    assert hits == []
