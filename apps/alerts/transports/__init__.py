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
    "apprise": "apps.alerts.transports.apprise.AppriseTransport",
}

__all__ = [
    "TRANSPORTS",
    "AlertMessage",
    "Transport",
    "TransportError",
    "channel_kind_choices",
    "transport_class",
    "transport_for",
]


def transport_class(kind: str) -> type[Transport]:
    """The transport class for ``kind``; KeyError for a kind nobody registered."""
    module_name, class_name = TRANSPORTS[kind].rsplit(".", 1)
    return getattr(import_module(module_name), class_name)


def channel_kind_choices() -> list[tuple[str, str]]:
    """``Channel.kind``'s choices, read from the registry so that a new kind needs no migration."""
    return [(kind, transport_class(kind).title) for kind in TRANSPORTS]


def transport_for(channel: Channel) -> Transport:
    """The transport that sends to ``channel``; a permanent TransportError for an unknown kind."""
    if channel.kind not in TRANSPORTS:
        raise TransportError(f"unknown channel kind {channel.kind!r}", permanent=True, disable=True)
    return transport_class(channel.kind)(channel)
