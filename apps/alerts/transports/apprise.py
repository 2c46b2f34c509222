"""Apprise: one channel holds one or more Apprise URLs (``ntfy://``, ``discord://``, ``tgram://``, ``matrix://``,
``workflows://`` for Teams, ``pover://``, ``gotify://``, plain ``json://`` ...), each sent the same message.

Apprise makes its own requests (with ``requests``, not our client), so the guard is put in front of them: while
a channel sends, every request Apprise makes (each redirect hop included, redirects being refused anyway) first
has its host resolved and checked by ``apps.core.netguard`` and its connection made to the very address that
was checked (so a DNS answer that changes between check and connect cannot rebind it to a private address),
gets a time limit bounded by the channel's one deadline, and has its answer recorded, so that the answer is
classified as for Slack (Retry-After, a revoked token disables the channel). Only schemes known to speak HTTP
through ``requests`` are accepted: the target of any other (SMTP, XMPP, MQTT, syslog, desktop notifications ...)
could not be checked.
"""

from __future__ import annotations

import contextvars
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
import urllib3.util.connection
from apprise import Apprise, AppriseAsset, NotifyType
from django.conf import settings

from apps.alerts.transports.base import AlertMessage, Transport, TransportError
from apps.core.config_spec import ConfigField
from apps.core.http import retry_after_parse
from apps.core.netguard import AddressRefused, HostUnresolved, host_resolve
from apps.core.switches import ALERTS_APPRISE

# Apprise services whose every request goes through ``requests`` to a host we can resolve and check.
CHECKED_SCHEMES = frozenset(
    {
        "apprise",
        "apprises",
        "discord",
        "form",
        "forms",
        "gotify",
        "gotifys",
        "json",
        "jsons",
        "matrix",
        "matrixs",
        "mmost",
        "mmosts",
        "ntfy",
        "ntfys",
        "pover",
        "rocket",
        "rockets",
        "slack",
        "tgram",
        "workflow",
        "workflows",
        "xml",
        "xmls",
        "zulip",
    }
)
MAX_URLS = 20
TOTAL_SECONDS = 20.0  # for all of a channel's URLs together, like one webhook POST's total limit
_SEVERITY_TYPES = {
    "info": NotifyType.INFO,
    "warning": NotifyType.WARNING,
    "error": NotifyType.FAILURE,
    "critical": NotifyType.FAILURE,
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else ""


def apprise_url_problems(urls: Any) -> list[str]:
    """The problems with an ``urls`` value; entries are named by position, never quoted (each is a secret)."""
    if not isinstance(urls, list) or not urls:
        return ['must be a non-empty list of Apprise URLs, e.g. ["ntfy://ntfy.example.com/alerts"]']
    if len(urls) > MAX_URLS:
        return [f"takes at most {MAX_URLS} URLs, got {len(urls)}"]
    problems = []
    for number, url in enumerate(urls, 1):
        scheme = _scheme(url) if isinstance(url, str) else ""
        if not scheme:
            problems.append(f"entry {number} is not an Apprise URL (scheme://...)")
        elif scheme not in CHECKED_SCHEMES:
            problems.append(
                f"entry {number}: scheme '{scheme[:20]}' is refused: its target cannot be checked against the "
                f"outbound address guard (accepted: {', '.join(sorted(CHECKED_SCHEMES))})"
            )
        elif Apprise.instantiate(url) is None:
            problems.append(f"entry {number} is not a valid {scheme}:// URL (see Apprise's documentation)")
    return problems


@dataclass
class _Guard:
    """What one send allows and what happened: the deadline, refused hosts, and every answer seen."""

    deadline: float
    refused: list[AddressRefused] = field(default_factory=list)
    answers: list[requests.Response] = field(default_factory=list)


_GUARD: contextvars.ContextVar[_Guard | None] = contextvars.ContextVar("apprise_guard", default=None)
# (host, checked address) of the request being sent: urllib3 connects to the address, TLS still checks the host.
_PINNED: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar("apprise_pinned", default=None)
_unguarded_send = requests.Session.send
_unpinned_connect = urllib3.util.connection.create_connection


def _pinned_connect(address: tuple[str, int], *args: Any, **kwargs: Any):
    """urllib3's ``create_connection`` with the guarded request's host replaced by its checked address; a
    second lookup of the name (the gap DNS rebinding uses) never happens."""
    pinned = _PINNED.get()
    host, port = address
    if pinned is not None and host.strip("[]").rstrip(".").lower() == pinned[0]:
        address = (pinned[1], port)
    return _unpinned_connect(address, *args, **kwargs)


def _guarded_send(session: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    """``requests.Session.send`` as Apprise's requests meet it while a channel sends; unchanged otherwise."""
    guard = _GUARD.get()
    if guard is None:
        return _unguarded_send(session, request, **kwargs)
    remaining = guard.deadline - time.monotonic()
    if remaining <= 0:
        raise requests.Timeout("the channel's total time limit passed")
    parts = urlsplit(request.url or "")
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        guard.refused.append(AddressRefused(f"only http(s) requests are allowed, not {parts.scheme or '?'}"))
        raise requests.ConnectionError("refused by the outbound guard")
    try:
        checked = host_resolve(parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme], timeout=remaining)[0]
    except AddressRefused as exc:
        guard.refused.append(AddressRefused(f"{parts.hostname}: {exc}"))
        raise requests.ConnectionError("refused by the outbound guard") from None
    # A redirect could lead anywhere: it comes back as an answer (classified below), never followed.
    kwargs["allow_redirects"] = False
    connect = min(settings.TRENDSITE_FETCH_CONNECT_TIMEOUT, remaining)
    kwargs["timeout"] = (connect, remaining)
    # A pooled connection to this host was opened to an address checked the same way; a new one is pinned.
    pinned = _PINNED.set((parts.hostname.rstrip(".").lower(), str(checked)))
    try:
        response = _unguarded_send(session, request, **kwargs)
    finally:
        _PINNED.reset(pinned)
    guard.answers.append(response)
    return response


requests.Session.send = _guarded_send  # inert outside a channel's send: see _guarded_send
urllib3.util.connection.create_connection = _pinned_connect  # inert unless a guarded send pinned an address


def _body(message: AlertMessage) -> str:
    lines = [message.text] if message.text else []
    lines += [f"{name}: {value}" for name, value in message.fields]
    if message.link:
        lines.append(message.link)
    return "\n".join(lines) or message.title


def _where(url: str) -> str:
    """How an error names an entry: its service and host, never its tokens."""
    scheme = _scheme(url)
    host = urlsplit(url).hostname if scheme else ""
    return f"{scheme}://{host or '…'}"


def _failure(guard: _Guard, where: str) -> TransportError:
    """Classify why one URL's send failed, from what the guard saw (the one place that decides)."""
    if guard.refused:
        exc = guard.refused[-1]
        # A name that does not resolve may be an outage; a refused address stays refused.
        temporary = isinstance(exc, HostUnresolved)
        return TransportError(f"{where}: {exc}", permanent=not temporary, disable=not temporary)
    if not guard.answers:
        return TransportError(f"{where}: no answer (network error or the {TOTAL_SECONDS:g} s time limit)")
    answer = guard.answers[-1]
    status = answer.status_code
    detail = f"{where} answered HTTP {status}"
    if status in (429, 503):
        return TransportError(detail, retry_after=retry_after_parse(answer.headers.get("retry-after")))
    if status >= 500 or status == 408:
        return TransportError(detail)
    if status in (401, 403, 404, 410):  # a revoked token, a deleted topic or webhook: it will not work again
        return TransportError(f"{detail}: the credential or destination is gone", disable=True)
    if 300 <= status < 400:
        return TransportError(f"{detail}: redirects are not followed", permanent=True)
    if status >= 400:
        return TransportError(detail, permanent=True)
    return TransportError(f"{where}: Apprise reported a failure after HTTP {status}")


class AppriseTransport(Transport):
    kind = "apprise"
    title = "Apprise (ntfy, Discord, Telegram, Matrix, Teams, …)"
    switch = ALERTS_APPRISE
    fields = (
        ConfigField(
            "urls",
            list,
            secret=True,
            check=apprise_url_problems,
            required_message='is required: a list of Apprise URLs, e.g. ["ntfy://ntfy.example.com/alerts"]',
        ),
    )
    example = '{"urls": ["ntfy://ntfy.example.com/alerts"]}'
    asset: ClassVar[AppriseAsset] = AppriseAsset(async_mode=False)

    def send(self, message: AlertMessage) -> None:
        """Send to every URL in turn; the first failure is raised (the worst when several fail)."""
        deadline = time.monotonic() + TOTAL_SECONDS
        failures = []
        for url in self.config["urls"]:
            failure = self._send_one(url, message, deadline=deadline)
            if failure is not None:
                failures.append(failure)
        if failures:
            raise max(failures, key=lambda exc: (exc.disable, exc.permanent))

    def _send_one(self, url: str, message: AlertMessage, *, deadline: float) -> TransportError | None:
        where = _where(url)
        plugin = Apprise.instantiate(url, asset=self.asset) if _scheme(url) in CHECKED_SCHEMES else None
        if plugin is None:
            return TransportError(f"{where}: not a usable Apprise URL of an accepted scheme", disable=True)
        plugin.redirects = False
        plugin.socket_connect_timeout = settings.TRENDSITE_FETCH_CONNECT_TIMEOUT
        plugin.socket_read_timeout = TOTAL_SECONDS
        guard = _Guard(deadline=deadline)
        token = _GUARD.set(guard)
        try:
            sent = plugin.notify(
                body=_body(message),
                title=f"[{message.severity.upper()}] {message.title}"[:250],
                notify_type=_SEVERITY_TYPES.get(message.severity, NotifyType.INFO),
            )
        except Exception:  # noqa: BLE001 - a plugin's bug is this URL's failure, classified like any other
            sent = False
        finally:
            _GUARD.reset(token)
        return None if sent else _failure(guard, where)
