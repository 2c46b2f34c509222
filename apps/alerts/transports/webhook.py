"""Signed JSON webhook: HMAC-SHA256 over ``f"{timestamp}.{body}"`` so receivers can prove it came from us.

Headers: ``X-Trendsite-Timestamp`` (Unix seconds) and ``X-Trendsite-Signature`` (``sha256=<hex>``). The README
shows how a receiver verifies it and rejects old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from apps.alerts.transports.base import AlertMessage, JsonPostTransport, TransportError, body_excerpt
from apps.core.config_spec import ConfigField, http_url_problem
from apps.core.http import FetchResponse, retry_after_parse
from apps.core.switches import ALERTS_WEBHOOK

MIN_SECRET_LENGTH = 16
_SECRET_RULE = f"is required: a string of at least {MIN_SECRET_LENGTH} characters"


def _secret_problems(value: object) -> list[str]:
    return [] if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH else [_SECRET_RULE]


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The value of X-Trendsite-Signature for ``body`` sent at ``timestamp``."""
    signed = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def webhook_body(message: AlertMessage) -> dict:
    """The JSON document a webhook receives."""
    return {
        "event": message.event_kind,
        "severity": message.severity,
        "title": message.title,
        "text": message.text,
        "fields": dict(message.fields),
        "link": message.link,
        "data": message.data,
    }


def raise_for_response(response: FetchResponse) -> None:
    """Classify the receiver's answer: 2xx delivered; 410 gone disables; other 4xx permanent; 429/5xx later."""
    status = response.status_code
    if status < 300:
        return
    detail = f"webhook answered HTTP {status}: {body_excerpt(response)}".rstrip(": ")
    if status == 429 or status == 408 or status >= 500:
        raise TransportError(detail, retry_after=retry_after_parse(response.headers.get("retry-after")))
    raise TransportError(detail, permanent=True, disable=status == 410)


class WebhookTransport(JsonPostTransport):
    kind = "webhook"
    title = "Webhook (signed JSON POST)"
    switch = ALERTS_WEBHOOK
    fields = (
        ConfigField("url", str, check=lambda value: http_url_problem(value, quote=True)),
        ConfigField("secret", str, secret=True, check=_secret_problems, required_message=_SECRET_RULE),
    )
    example = '{"url": "https://example.com/hook", "secret": "at least 16 characters"}'

    def url(self) -> str:
        return self.config["url"]

    def body(self, message: AlertMessage) -> bytes:
        return json.dumps(webhook_body(message), separators=(",", ":"), sort_keys=True).encode()

    def headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        return {
            "Content-Type": "application/json",
            "X-Trendsite-Timestamp": timestamp,
            "X-Trendsite-Signature": webhook_signature(secret=self.config["secret"], timestamp=timestamp, body=body),
        }

    def raise_for_response(self, response: FetchResponse) -> None:
        raise_for_response(response)
