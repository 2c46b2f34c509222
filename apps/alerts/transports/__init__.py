"""The registry: channel kind -> transport class. Adding a kind is one module plus one line here."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from apps.alerts.transports.base import AlertMessage, Transport, TransportError

if TYPE_CHECKING:
    from apps.alerts.models import Channel

TRANSPORTS: dict[str, str] = {
    "email": "apps.alerts.transports.email.EmailTransport",
    "slack": "apps.alerts.transports.slack.SlackTransport",
    "webhook": "apps.alerts.transports.webhook.WebhookTransport",
    "console": "apps.alerts.transports.console.ConsoleTransport",
}

__all__ = ["TRANSPORTS", "AlertMessage", "Transport", "TransportError", "transport_for"]


def transport_for(channel: Channel) -> Transport:
    """The transport that sends to ``channel``; a permanent TransportError for an unknown kind."""
    try:
        module_name, class_name = TRANSPORTS[channel.kind].rsplit(".", 1)
    except KeyError:
        raise TransportError(f"unknown channel kind {channel.kind!r}", permanent=True, disable=True) from None
    return getattr(import_module(module_name), class_name)(channel)
