"""Each transport against a real peer: an SMTP server, a local HTTP server standing in for Slack or a receiver."""

import json
import time

import pytest
from werkzeug import Response

from apps.alerts.models import Channel, Notification
from apps.alerts.services import channel_test_send, notification_send
from apps.alerts.transports import AlertMessage, TransportError, transport_for
from apps.alerts.transports.webhook import webhook_signature
from tests.alerts.conftest import parts
from tests.alerts.factories import ChannelFactory

pytestmark = pytest.mark.django_db

MESSAGE = AlertMessage(
    event_kind="trend.state_changed",
    title="Fusion startup raises $1bn & more",
    text="Investors pile in.",
    severity="error",
    fields=[("State", "viral"), ("Score", "9.50")],
    link="http://127.0.0.1:8000/admin/trends/trend/7/change/",
    data={"to": "viral"},
)


def _notification(channel: Channel, message: AlertMessage = MESSAGE) -> Notification:
    return Notification.objects.create(
        channel=channel, event_kind=message.event_kind, dedup_key=f"k{time.monotonic_ns()}", message=message.to_dict()
    )


def test_email_arrives_with_subject_text_and_html_parts(smtp_server):
    channel = ChannelFactory(kind="email", config={"to": ["ops@example.com", "oncall@example.com"]})

    transport_for(channel).send(MESSAGE)

    [received] = smtp_server
    assert received["Subject"] == "[trendsite] Trend now viral: Fusion startup raises $1bn & more"
    assert received["To"] == "ops@example.com, oncall@example.com"
    assert received.get_content_type() == "multipart/alternative"
    body = parts(received)
    assert "State: viral" in body["text/plain"] and MESSAGE.link in body["text/plain"]
    assert "&amp; more" in body["text/html"] and f'href="{MESSAGE.link}"' in body["text/html"]


def test_email_to_an_unreachable_server_is_a_temporary_failure(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    channel = ChannelFactory(kind="email", config={"to": ["ops@example.com"]})
    with pytest.raises(TransportError) as caught:
        transport_for(channel).send(MESSAGE)
    assert not caught.value.permanent


def test_slack_posts_the_exact_block_kit_document(httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})

    transport_for(channel).send(MESSAGE)

    [(request, _)] = httpserver.log
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.data) == {
        "text": "[ERROR] Fusion startup raises $1bn &amp; more",
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Fusion startup raises $1bn & more"}}],
        "attachments": [
            {
                "color": "#D00000",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Investors pile in."}},
                    {
                        "type": "section",
                        "fields": [
                            {"type": "mrkdwn", "text": "*State*\nviral"},
                            {"type": "mrkdwn", "text": "*Score*\n9.50"},
                        ],
                    },
                    {
                        "type": "actions",
                        "elements": [
                            {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": MESSAGE.link}
                        ],
                    },
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": "error · trend.state_changed"}]},
                ],
            }
        ],
    }


def test_slack_429_retries_after_header_and_delivers_once(httpserver, settings):
    settings.ALERTS_MAX_ATTEMPTS = 5
    httpserver.expect_ordered_request("/hook").respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "2"})
    )
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    notification = _notification(channel)

    first = notification_send(notification_id=notification.pk)
    too_early = notification_send(notification_id=notification.pk)
    assert first.status == "retry" and 1 <= (first.retry_at - notification.created_at).total_seconds() <= 4
    assert too_early.status == "skipped"
    time.sleep((first.retry_at - notification.created_at).total_seconds() + 0.2)
    second = notification_send(notification_id=notification.pk)
    again = notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    assert (second.status, again.status, notification.status, notification.attempts) == ("sent", "skipped", "sent", 2)
    assert len(httpserver.log) == 2
    assert [a.ok for a in notification.attempt_log.all()] == [False, True]
    assert "429" in notification.attempt_log.first().error


def test_slack_500_is_retried_with_backoff_and_then_fails_at_max_attempts(httpserver, settings):
    settings.ALERTS_MAX_ATTEMPTS, settings.ALERTS_RETRY_BASE_SECONDS = 2, 10
    httpserver.expect_request("/hook").respond_with_data("oops", status=500)
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    notification = _notification(channel)

    first = notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert first.status == "retry" and notification.status == "pending"
    assert 7 <= (notification.next_attempt_at - notification.attempt_log.get().started_at).total_seconds() <= 13
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=None)  # the backoff has passed
    second = notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    channel.refresh_from_db()
    assert second.status == "failed" and notification.status == "failed" and notification.attempts == 2
    assert [a.error for a in notification.attempt_log.all()] == ["Slack answered HTTP 500 oops"] * 2
    assert channel.enabled and "500" in channel.last_error


def test_slack_404_no_service_disables_the_channel_with_the_reason(httpserver):
    httpserver.expect_request("/hook").respond_with_data("no_service", status=404)
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    notification = _notification(channel)
    later = _notification(channel)

    outcome = notification_send(notification_id=notification.pk)
    after = notification_send(notification_id=later.pk)

    channel.refresh_from_db()
    assert outcome.status == "failed"
    assert not channel.enabled and channel.disabled_reason == "Slack answered HTTP 404 no_service"
    assert (after.status, after.detail) == ("suppressed", "channel disabled")
    assert len(httpserver.log) == 1


def test_slack_400_invalid_payload_fails_the_message_but_keeps_the_channel(httpserver):
    httpserver.expect_request("/hook").respond_with_data("invalid_payload", status=400)
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    outcome = notification_send(notification_id=_notification(channel).pk)
    channel.refresh_from_db()
    assert outcome.status == "failed" and channel.enabled and channel.disabled_reason == ""


def test_slack_messages_to_one_webhook_are_paced_one_per_second(httpserver):
    httpserver.expect_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    started = time.monotonic()
    for _ in range(3):
        transport_for(channel).send(MESSAGE)
    assert time.monotonic() - started >= 1.9


def test_webhook_signature_verifies_over_timestamp_and_body(httpserver):
    secret = "s3cret-s3cret-s3cret"
    httpserver.expect_request("/receiver", method="POST").respond_with_data("", status=204)
    channel = ChannelFactory(kind="webhook", config={"url": httpserver.url_for("/receiver"), "secret": secret})

    transport_for(channel).send(MESSAGE)

    [(request, _)] = httpserver.log
    timestamp, signature = request.headers["X-Trendsite-Timestamp"], request.headers["X-Trendsite-Signature"]
    assert abs(int(timestamp) - time.time()) < 5
    assert signature == webhook_signature(secret=secret, timestamp=timestamp, body=request.data)
    assert signature != webhook_signature(secret="another-secret-entirely", timestamp=timestamp, body=request.data)
    # The README's receiver snippet, verbatim in spirit: HMAC-SHA256 of "<timestamp>.<raw body>".
    import hashlib
    import hmac

    expected = hmac.new(secret.encode(), f"{timestamp}.{request.data.decode()}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(signature, f"sha256={expected}")
    assert json.loads(request.data) == {
        "event": "trend.state_changed",
        "severity": "error",
        "title": "Fusion startup raises $1bn & more",
        "text": "Investors pile in.",
        "fields": {"State": "viral", "Score": "9.50"},
        "link": MESSAGE.link,
        "data": {"to": "viral"},
    }


def test_webhook_410_disables_and_a_refused_address_never_goes_out(httpserver, settings):
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    gone = ChannelFactory(kind="webhook", config={"url": httpserver.url_for("/gone"), "secret": "x" * 16})
    settings.TRENDSITE_OUTBOUND_ALLOW = []
    with pytest.raises(TransportError) as refused:
        transport_for(gone).send(MESSAGE)
    assert refused.value.disable and len(httpserver.log) == 0
    settings.TRENDSITE_OUTBOUND_ALLOW = ["127.0.0.0/8"]
    with pytest.raises(TransportError) as answered:
        transport_for(gone).send(MESSAGE)
    assert answered.value.disable and "410" in answered.value.message


def test_switched_off_kind_is_recorded_suppressed_not_sent(httpserver):
    from waffle.models import Switch

    Switch.objects.update_or_create(name="alerts.slack", defaults={"active": False})
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    notification = _notification(channel)
    outcome = notification_send(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (outcome.status, notification.status_display) == ("suppressed", "suppressed (switch off)")
    assert len(httpserver.log) == 0


def test_send_test_waits_out_one_short_retry_after(httpserver):
    httpserver.expect_ordered_request("/hook").respond_with_response(
        Response("rate_limited", status=429, headers={"Retry-After": "1"})
    )
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    channel_test_send(channel=channel, wait_retry_after=30)
    channel.refresh_from_db()
    assert len(httpserver.log) == 2 and channel.last_sent_at is not None


def test_console_prints_the_alert(capsys):
    transport_for(ChannelFactory(kind="console", name="dev")).send(MESSAGE)
    out = capsys.readouterr().out
    assert "[ERROR] Fusion startup raises $1bn & more  (trend.state_changed, channel dev)" in out
    assert "State: viral" in out


def test_errors_quoting_the_slack_url_are_stored_and_printed_masked():
    from io import StringIO

    from django.core.management import CommandError, call_command

    url = "http://127.0.0.1:9/services/T0/B0/TOPSECRETTOKEN"  # nothing listens on port 9
    channel = ChannelFactory(name="slack", kind="slack", config={"webhook_url": url})
    outcome = notification_send(notification_id=_notification(channel).pk)
    with pytest.raises(CommandError) as caught:
        call_command("send_test_alert", "--channel", "slack", stdout=StringIO())

    channel.refresh_from_db()
    attempt = Notification.objects.get().attempt_log.get()
    assert "network error fetching ********" in attempt.error
    for text in (attempt.error, outcome.detail, channel.last_error, str(caught.value)):
        assert "TOPSECRETTOKEN" not in text


def _mrkdwn_texts(document: dict) -> list[str]:
    texts = [document["text"]]
    for block in document["attachments"][0]["blocks"]:
        if block["type"] == "section":
            texts += [block["text"]["text"]] if "text" in block else [f["text"] for f in block["fields"]]
        elif block["type"] == "context":
            texts += [element["text"] for element in block["elements"]]
    return texts


def test_slack_mrkdwn_escapes_ampersand_and_angle_brackets_in_every_text(httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    channel = ChannelFactory(kind="slack", config={"webhook_url": httpserver.url_for("/hook")})
    hostile = AlertMessage(
        event_kind="plugin.failed",
        title="<!channel> R&D <https://evil.example|click here>",
        text="HTTP 500 <!here> & <https://evil.example|reset your password>",
        severity="error",
        fields=[("Error <x>", "reason <!everyone>"), ("Source", "a&b")],
    )

    transport_for(channel).send(hostile)

    [(request, _)] = httpserver.log
    document = json.loads(request.data)
    texts = _mrkdwn_texts(document)
    assert len(texts) == 5
    for text in texts:
        assert "<" not in text and ">" not in text and "& " not in text
    assert document["text"] == "[ERROR] &lt;!channel&gt; R&amp;D &lt;https://evil.example|click here&gt;"
    assert texts[2] == "*Error &lt;x&gt;*\nreason &lt;!everyone&gt;"


def test_slack_escaping_never_cuts_an_entity_in_half():
    from apps.alerts.transports.slack import mrkdwn_escaped

    assert mrkdwn_escaped("ab<cd", 4) == "ab"
    assert mrkdwn_escaped("a&b", 100) == "a&amp;b"


def test_a_slack_url_spelled_differently_is_still_masked_in_errors():
    url = "http://LOCALHOST:9/services/T0/B0/TOPSECRETTOKEN"  # the client normalises it to http://localhost:9
    channel = ChannelFactory(name="slack", kind="slack", config={"webhook_url": url})
    outcome = notification_send(notification_id=_notification(channel).pk)

    channel.refresh_from_db()
    attempt = Notification.objects.get().attempt_log.get()
    assert "network error fetching ********" in attempt.error
    for text in (attempt.error, outcome.detail, channel.last_error, Notification.objects.get().last_error):
        assert "TOPSECRETTOKEN" not in text and "/services/T0" not in text
