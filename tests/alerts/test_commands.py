"""send_test_alert: through the real transport, one short Retry-After waited out, exit 1 on failure."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from werkzeug import Response

from tests.alerts.factories import ChannelFactory

pytestmark = pytest.mark.django_db


def test_send_test_alert_prints_the_outcome(smtp_server):
    ChannelFactory(name="mail", kind="email", config={"to": ["ops@example.com"]})
    out = StringIO()
    call_command("send_test_alert", "--channel", "mail", stdout=out)
    assert out.getvalue().strip() == "Done! Test alert sent to mail (email)."
    assert smtp_server[0]["Subject"].strip() == "[trendsite] Test alert for channel mail"


def test_send_test_alert_waits_out_one_429_and_retries_once(httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "1"})
    )
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    ChannelFactory(name="slack", kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    out = StringIO()
    call_command("send_test_alert", "--channel", "slack", stdout=out)
    assert "Done!" in out.getvalue() and len(httpserver.log) == 2


def test_send_test_alert_fails_with_exit_1_and_says_the_channel_is_disabled(httpserver):
    httpserver.expect_request("/hook").respond_with_data("no_service", status=404)
    ChannelFactory(name="slack", kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    with pytest.raises(CommandError) as caught:
        call_command("send_test_alert", "--channel", "slack", stdout=StringIO())
    assert str(caught.value) == (
        "Test alert to slack (slack) failed: Slack answered HTTP 404 no_service. The channel is now disabled."
    )
    assert caught.value.returncode == 1


def test_send_test_alert_does_not_wait_for_a_long_retry_after(httpserver):
    httpserver.expect_request("/hook").respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "120"})
    )
    ChannelFactory(name="slack", kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    with pytest.raises(CommandError, match="HTTP 429"):
        call_command("send_test_alert", "--channel", "slack", stdout=StringIO())
    assert len(httpserver.log) == 1


def test_send_test_alert_names_the_known_channels():
    ChannelFactory(name="dev")
    with pytest.raises(CommandError, match=r"no channel named 'nope' \(known: dev\)"):
        call_command("send_test_alert", "--channel", "nope", stdout=StringIO())
