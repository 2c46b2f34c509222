"""What every transport is: ``send(message)`` that returns on success and raises TransportError otherwise."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from apps.core.config_spec import ConfiguredKind
from apps.core.http import FetchError, FetchResponse, http_fetch

if TYPE_CHECKING:
    from apps.alerts.models import Channel


class TransportError(Exception):
    """A send failed. ``permanent``: trying the same message again cannot help. ``disable``: the destination is
    gone, so the channel is switched off with this message as the reason. ``retry_after``: the peer's wish."""

    def __init__(
        self, message: str, *, permanent: bool = False, disable: bool = False, retry_after: datetime | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent or disable
        self.disable = disable
        self.retry_after = retry_after


@dataclass(frozen=True)
class AlertMessage:
    """What every transport renders: built once from the event when the notification is written."""

    event_kind: str
    title: str
    text: str = ""
    severity: str = "info"
    fields: list[tuple[str, str]] = field(default_factory=list)
    link: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> AlertMessage:
        return cls(
            event_kind=value.get("event_kind", ""),
            title=value.get("title", ""),
            text=value.get("text", ""),
            severity=value.get("severity", "info"),
            fields=[(str(k), str(v)) for k, v in value.get("fields", [])],
            link=value.get("link", ""),
            data=value.get("data", {}),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_kind": self.event_kind,
            "title": self.title,
            "text": self.text,
            "severity": self.severity,
            "fields": [list(pair) for pair in self.fields],
            "link": self.link,
            "data": self.data,
        }


class Transport(ConfiguredKind):
    """Base of every transport: subclasses set ``kind``, declare their config ``fields`` (apps.core.config_spec)
    and an ``example``, and implement ``send``."""

    label: ClassVar[str] = "Channel"
    title: ClassVar[str]  # what the admin's kind menu shows
    switch: ClassVar[str] = ""  # the feature switch that must be on for this kind to send; "" for none

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.config = channel.config or {}

    def send(self, message: AlertMessage) -> None:
        raise NotImplementedError


def fetch_error_as_transport_error(exc: FetchError) -> TransportError:
    """A failure before any answer (refused address, timeout, network): refused addresses never work."""
    return TransportError(exc.message, permanent=exc.permanent, disable=exc.permanent, retry_after=exc.retry_after)


def body_excerpt(response: FetchResponse, limit: int = 200) -> str:
    return response.content[:limit].decode("utf-8", "replace").strip()


class JsonPostTransport(Transport):
    """A transport that POSTs one JSON document through the guarded client and reads the answer: subclasses
    say where (``url``), what (``body``), with which headers, and how the answer is classified."""

    timeout_seconds: ClassVar[float] = 10.0
    max_answer_bytes: ClassVar[int] = 64 * 1024

    def url(self) -> str:
        raise NotImplementedError

    def body(self, message: AlertMessage) -> bytes:
        raise NotImplementedError

    def headers(self, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def before_post(self) -> None:
        """Called just before the request (Slack paces itself here)."""

    def raise_for_response(self, response: FetchResponse) -> None:
        raise NotImplementedError

    def send(self, message: AlertMessage) -> None:
        body = self.body(message)
        headers = self.headers(body)
        self.before_post()
        try:
            response = http_fetch(
                self.url(),
                method="POST",
                content=body,
                headers=headers,
                timeout=self.timeout_seconds,
                max_bytes=self.max_answer_bytes,
                raise_for_status=False,
            )
        except FetchError as exc:
            raise fetch_error_as_transport_error(exc) from None
        self.raise_for_response(response)
