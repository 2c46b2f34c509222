"""Slack incoming webhook: a Block Kit message with a severity colour, paced to 1 message/s per webhook.

Slack explains failures in the plain-text body (``no_service``, ``invalid_payload`` ...); ``raise_for_response``
is the one place that turns an answer into delivered, try later, fail this message, or disable the channel.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from django.core.cache import cache

from apps.alerts.transports.base import AlertMessage, JsonPostTransport, TransportError, body_excerpt
from apps.core.config_spec import ConfigField, http_url_problem
from apps.core.http import FetchResponse, retry_after_parse
from apps.core.switches import ALERTS_SLACK

SEVERITY_COLOURS = {"info": "#439FE0", "warning": "#DAA038", "error": "#D00000", "critical": "#7B0000"}
# Answers meaning the webhook will never work again: the channel is disabled with the answer as the reason.
GONE_ANSWERS = frozenset(
    {"action_prohibited", "channel_not_found", "no_service", "channel_is_archived", "invalid_token"}
)
PACE_SECONDS = 1.0
PACE_MAX_WAIT_SECONDS = 30.0
MAX_FIELDS = 10  # Block Kit's limit per section


def mrkdwn_escaped(text: str, limit: int) -> str:
    """``text`` safe in a Slack mrkdwn field: ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and ``&gt;`` (Slack's
    rules), so a title or an error cannot write ``<!channel>`` or a link of its own; cut to ``limit`` characters
    without leaving half an entity."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if len(escaped) <= limit:
        return escaped
    return re.sub(r"&[a-z]{0,3}$", "", escaped[:limit])


def slack_payload(message: AlertMessage) -> dict:
    """The Block Kit document posted to the webhook. Every mrkdwn text (top-level ``text`` included, which
    Slack shows in notifications) is escaped; ``plain_text`` ones are not parsed for links or mentions."""
    details: list[dict] = []
    if message.text:
        details.append({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn_escaped(message.text, 3000)}})
    fields = [
        {"type": "mrkdwn", "text": f"*{mrkdwn_escaped(name, 200)}*\n{mrkdwn_escaped(value, 1700)}"}
        for name, value in message.fields[:MAX_FIELDS]
    ]
    if fields:
        details.append({"type": "section", "fields": fields})
    if message.link:
        details.append(
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": message.link}],
            }
        )
    context = mrkdwn_escaped(f"{message.severity} · {message.event_kind}", 300)
    details.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {
        "text": mrkdwn_escaped(f"[{message.severity.upper()}] {message.title}", 3000),
        "blocks": [{"type": "header", "text": {"type": "plain_text", "text": message.title[:150] or "trendsite"}}],
        "attachments": [{"color": SEVERITY_COLOURS.get(message.severity, "#439FE0"), "blocks": details}],
    }


def raise_for_response(response: FetchResponse) -> None:
    """Classify Slack's answer (see the module docstring)."""
    status, answer = response.status_code, body_excerpt(response)
    if status < 300:
        return
    detail = f"Slack answered HTTP {status} {answer}".strip()
    if status == 429:
        retry_after = retry_after_parse(response.headers.get("retry-after"))
        raise TransportError(detail, retry_after=retry_after)
    if status >= 500:
        raise TransportError(detail)
    if answer in GONE_ANSWERS or status in (403, 404, 410):
        raise TransportError(detail, disable=True)
    raise TransportError(detail, permanent=True)


def webhook_pace(url: str) -> None:
    """Wait until this webhook may take another message: Slack allows about one per second per webhook.

    A Redis key set-if-absent with a 1 s expiry is the token, shared by every worker process."""
    client = cache.client.get_client(write=True)
    key = "alerts:slack-pace:" + hashlib.sha256(url.encode()).hexdigest()[:24]
    deadline = time.monotonic() + PACE_MAX_WAIT_SECONDS
    while not client.set(key, "1", nx=True, px=int(PACE_SECONDS * 1000)):
        if time.monotonic() > deadline:
            return
        remaining = client.pttl(key)
        time.sleep(max(remaining, 10) / 1000)


class SlackTransport(JsonPostTransport):
    kind = "slack"
    title = "Slack (incoming webhook)"
    switch = ALERTS_SLACK
    # The webhook URL is itself the credential: masked, never quoted, and no destination of its own.
    fields = (
        ConfigField(
            "webhook_url",
            str,
            secret=True,
            help="the Slack incoming-webhook URL",
            check=lambda value: http_url_problem(value, quote=False),
        ),
    )
    example = '{"webhook_url": "https://hooks.slack.com/services/..."}'

    def url(self) -> str:
        return self.config["webhook_url"]

    def body(self, message: AlertMessage) -> bytes:
        return json.dumps(slack_payload(message)).encode()

    def before_post(self) -> None:
        webhook_pace(self.url())

    def raise_for_response(self, response: FetchResponse) -> None:
        raise_for_response(response)
