"""The one outbound HTTP client: every fetch from the internet goes through ``http_fetch``.

It accepts only http(s) URLs, checks the address of every hop (redirects included) against the guard after
DNS resolution and connects to the address it checked, drops credentials on a hop to another origin, bounds
time (one deadline from DNS lookup to last byte) and size, sends a descriptive User-Agent, does conditional GETs
and turns every failure into a ``FetchError`` that says whether trying again later can help and, for 429/503,
when.
"""

from __future__ import annotations

import email.utils
import http.cookiejar
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import httpx
from django.conf import settings
from django.utils import timezone

from apps.core.fetch_deadline import DeadlineTransport, deadline_remaining, fetch_deadline
from apps.core.netguard import AddressRefused, HostUnresolved, host_resolve
from apps.core.redact import header_is_credential, param_is_credential
from apps.core.url_mask import url_masked

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# A server asking for more than this is treated as asking for this: sources resume within a day.
_RETRY_AFTER_CAP = timedelta(hours=24)
# Delay-seconds is ASCII digits only (RFC 9110); more than 10 of them (over 300 years) is garbage, not a wish.
_RETRY_AFTER_SECONDS = re.compile(r"[0-9]{1,10}")


class FetchError(Exception):
    """A fetch failed. ``permanent`` says retrying the same request cannot help (bad URL, 404, refused address);
    ``retry_after`` is when the server asked us to come back (429/503)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        status_code: int | None = None,
        retry_after: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass
class FetchResponse:
    url: str
    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def not_modified(self) -> bool:
        return self.status_code == 304

    @property
    def etag(self) -> str:
        return self.headers.get("etag", "")

    @property
    def last_modified(self) -> str:
        return self.headers.get("last-modified", "")

    def json(self) -> Any:
        """The body as JSON, or a FetchError that names the URL and where the JSON broke."""
        try:
            return json.loads(self.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise FetchError(f"malformed JSON from {self.url}: {exc}", permanent=False) from None


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    # One pooled client per process; redirects are followed by hand so each hop meets the guard. Its cookie
    # jar accepts nothing: requests go to pinned IP addresses, so a cookie one site set would be sent to
    # every other site sharing that address.
    no_cookies = http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(follow_redirects=False, trust_env=False, cookies=no_cookies, transport=DeadlineTransport())


def _timeout(timeout: float | None) -> httpx.Timeout:
    connect = settings.TRENDSITE_FETCH_CONNECT_TIMEOUT
    read = timeout if timeout is not None else settings.TRENDSITE_FETCH_READ_TIMEOUT
    return httpx.Timeout(connect=min(connect, read), read=read, write=read, pool=connect)


def retry_after_parse(value: str | None, *, now: datetime | None = None) -> datetime | None:
    """``Retry-After`` (seconds or an HTTP date) as an aware datetime, capped at 24 h from now.

    None when absent or malformed (non-ASCII digits, absurdly many digits, not a date): like no header.
    """
    if not value:
        return None
    now = now or timezone.now()
    value = value.strip()
    if _RETRY_AFTER_SECONDS.fullmatch(value):
        when = now + min(timedelta(seconds=int(value)), _RETRY_AFTER_CAP)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return min(max(when, now), now + _RETRY_AFTER_CAP)


def _pinned_request(
    method: str, url: httpx.URL, *, headers: dict[str, str], timeout: httpx.Timeout, **kwargs: Any
) -> httpx.Request:
    """A request to the checked IP address, with the original host in Host and TLS SNI.

    Connecting to the address we checked (instead of letting httpx resolve the name again) closes the
    DNS-rebinding gap between check and connect.
    """
    if url.scheme not in _DEFAULT_PORTS:
        raise FetchError(f"only http and https URLs can be fetched, not {str(url)[:200]!r}", permanent=True)
    if not url.host:
        raise FetchError(f"URL has no host: {str(url)[:200]!r}", permanent=True)
    port = url.port or _DEFAULT_PORTS[url.scheme]
    try:
        address = host_resolve(url.host, port, timeout=deadline_remaining())[0]
    except AddressRefused as exc:
        # A DNS failure may be an outage or a lapsed record: temporary. A refused address stays refused.
        raise FetchError(f"{url.host}: {exc}", permanent=not isinstance(exc, HostUnresolved)) from None
    host_header = url.netloc.decode("ascii").rsplit("@", 1)[-1]
    request = _client().build_request(
        method,
        url.copy_with(host=str(address)),
        headers={**headers, "Host": host_header},
        timeout=timeout,
        extensions={"sni_hostname": url.host},
        **kwargs,
    )
    return request


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)


def _credential_params_dropped(url: httpx.URL) -> httpx.URL:
    kept = [(name, value) for name, value in url.params.multi_items() if not param_is_credential(name)]
    if len(kept) == len(url.params.multi_items()):
        return url
    return url.copy_with(query=str(httpx.QueryParams(kept)).encode("ascii") or None)


def _classify(response: httpx.Response, url: str) -> None:
    status = response.status_code
    if status < 400:
        return
    reason = response.reason_phrase or "error"
    if status in (429, 503):
        retry_after = retry_after_parse(response.headers.get("retry-after"))
        hint = f"; retry after {retry_after:%Y-%m-%d %H:%M:%S} UTC" if retry_after else ""
        raise FetchError(f"HTTP {status} {reason} from {url}{hint}", status_code=status, retry_after=retry_after)
    permanent = 400 <= status < 500 and status != 408
    raise FetchError(f"HTTP {status} {reason} from {url}", permanent=permanent, status_code=status)


def _read_capped(response: httpx.Response, *, url: str, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(
            f"response from {url} is {int(declared):,} bytes, over the {max_bytes:,}-byte cap", permanent=True
        )
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"response from {url} exceeds the {max_bytes:,}-byte cap", permanent=True)
        if time.monotonic() > deadline:
            raise FetchError(f"response from {url} took longer than the total time limit")
        chunks.append(chunk)
    return b"".join(chunks)


def http_fetch(
    url: str,
    *,
    method: str = "GET",
    params: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    data: dict[str, Any] | None = None,
    content: bytes | None = None,
    auth: tuple[str, str] | None = None,
    etag: str = "",
    last_modified: str = "",
    max_bytes: int | None = None,
    timeout: float | None = None,
    raise_for_status: bool = True,
) -> FetchResponse:
    """Fetch ``url`` safely and return its body (or a 304 with an empty body).

    Raises FetchError for a refused URL or address, a timeout, an oversized body, too many redirects or an
    HTTP error status; 429/503 carry ``retry_after`` for the caller to store as the source's next fetch time.
    ``content`` is a raw request body (a JSON POST); with ``raise_for_status=False`` an error status comes back
    as a response, body included, for callers whose peers explain errors in the body (Slack).
    """
    max_bytes = max_bytes or settings.TRENDSITE_FETCH_MAX_BYTES
    request_headers = {"User-Agent": settings.TRENDSITE_USER_AGENT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        request_headers["If-None-Match"] = etag
    if last_modified:
        request_headers["If-Modified-Since"] = last_modified
    request_headers.update(headers or {})
    try:
        current = httpx.URL(url, params=params) if params else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(f"not a valid URL {url_masked(url)[:200]!r}: {exc}", permanent=True) from None
    extra: dict[str, Any] = {"data": data} if data is not None else {}
    if content is not None:
        extra["content"] = content
    total = settings.TRENDSITE_FETCH_TOTAL_TIMEOUT
    with fetch_deadline(total) as deadline:
        for _hop in range(MAX_REDIRECTS + 1):
            request = _pinned_request(method, current, headers=request_headers, timeout=_timeout(timeout), **extra)
            shown = url_masked(str(current))[:300]  # errors are stored and shown: no credentials in them
            try:
                response = _client().send(request, stream=True, auth=auth)
                try:
                    if response.status_code in _REDIRECT_STATUSES and "location" in response.headers:
                        target = current.join(response.headers["location"])
                        if _origin(target) != _origin(current):
                            # Credentials are for the origin they were configured for: like browsers and
                            # requests, none of them follows a redirect to another scheme, host or port.
                            auth = None
                            request_headers = {
                                name: value for name, value in request_headers.items() if not header_is_credential(name)
                            }
                            target = _credential_params_dropped(target)
                        current = target
                        if response.status_code == 303 or (response.status_code in (301, 302) and method == "POST"):
                            method, extra = "GET", {}
                        continue
                    if response.status_code == 304:
                        return FetchResponse(str(current), 304, response.headers, b"")
                    if raise_for_status:
                        _classify(response, shown)
                    content = _read_capped(response, url=shown, max_bytes=max_bytes, deadline=deadline)
                    return FetchResponse(str(current), response.status_code, response.headers, content)
                finally:
                    response.close()
            except httpx.TimeoutException as exc:
                if time.monotonic() >= deadline:
                    raise FetchError(f"fetching {shown} took longer than the total time limit of {total:g} s") from None
                raise FetchError(f"timed out fetching {shown} ({type(exc).__name__})") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"network error fetching {shown}: {exc or type(exc).__name__}") from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects starting at {url[:300]}", permanent=True)
