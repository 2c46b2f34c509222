"""Signed JSON webhook: HMAC-SHA256 over ``f"{timestamp}.{body}"`` so receivers can prove it came from us.

Headers: ``X-Trendsite-Timestamp`` (Unix seconds) and ``X-Trendsite-Signature`` (``sha256=<hex>``). The README
shows how a receiver verifies it and rejects old timestamps (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from apps.alerts.transports.base import (
    AlertMessage,
    Transport,
    TransportError,
    body_excerpt,
    fetch_error_as_transport_error,
)
from apps.core.http import FetchError, FetchResponse, http_fetch, retry_after_parse

TIMEOUT_SECONDS = 10.0


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


class WebhookTransport(Transport):
    kind = "webhook"

    def send(self, message: AlertMessage) -> None:
        body = json.dumps(webhook_body(message), separators=(",", ":"), sort_keys=True).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Trendsite-Timestamp": timestamp,
            "X-Trendsite-Signature": webhook_signature(secret=self.config["secret"], timestamp=timestamp, body=body),
        }
        try:
            response = http_fetch(
                self.config["url"],
                method="POST",
                content=body,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                max_bytes=64 * 1024,
                raise_for_status=False,
            )
        except FetchError as exc:
            raise fetch_error_as_transport_error(exc) from None
        raise_for_response(response)
