"""The outbound client against servers that misbehave on purpose: redirects to another origin that would
harvest credentials, headers dripped one byte a second, and Retry-After values no parser expects."""

import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from pytest_httpserver import HTTPServer

from apps.core.http import FetchError, http_fetch, retry_after_parse


@pytest.fixture
def other_origin():
    """A second local server: another port, so another origin, on the same loopback address."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def _received_headers(server):
    assert len(server.log) == 1, server.log
    return server.log[0][0].headers


def test_redirect_to_another_origin_drops_every_credential(httpserver, other_origin):
    httpserver.expect_request("/api").respond_with_data(
        "", status=302, headers={"Location": other_origin.url_for("/harvest?key=abc12345&page=2&token=t0k3n")}
    )
    other_origin.expect_request("/harvest").respond_with_data("{}")
    http_fetch(
        httpserver.url_for("/api"),
        params={"key": "abc12345"},
        headers={
            "Authorization": "Bearer s3cr3t-bearer",
            "Cookie": "session=abc",
            "Proxy-Authorization": "Basic eDp5",
            "X-Api-Key": "k-123",
            "Accept": "application/json",
        },
        auth=("user", "pass"),
    )
    headers = _received_headers(other_origin)
    for name in ("Authorization", "Cookie", "Proxy-Authorization", "X-Api-Key"):
        assert name not in headers, name
    assert headers["Accept"] == "application/json"
    assert dict(other_origin.log[0][0].args) == {"page": "2"}


def test_same_origin_redirect_keeps_credentials(httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new?key=abc12345"})
    httpserver.expect_request("/new").respond_with_data("ok")
    http_fetch(httpserver.url_for("/old"), headers={"Authorization": "Bearer s3cr3t-bearer"})
    request = httpserver.log[-1][0]
    assert request.headers["Authorization"] == "Bearer s3cr3t-bearer"
    assert request.args["key"] == "abc12345"


def test_credentials_stay_dropped_when_a_later_hop_returns_to_the_first_origin(httpserver, other_origin):
    other_origin.expect_request("/bounce").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/back")}
    )
    httpserver.expect_request("/start").respond_with_data(
        "", status=302, headers={"Location": other_origin.url_for("/bounce")}
    )
    httpserver.expect_request("/back").respond_with_data("ok")
    http_fetch(httpserver.url_for("/start"), headers={"Authorization": "Bearer s3cr3t-bearer"})
    assert "Authorization" not in httpserver.log[-1][0].headers


def test_cookies_one_site_sets_are_never_sent_to_another(httpserver, other_origin):
    httpserver.expect_request("/set").respond_with_data("", headers={"Set-Cookie": "sid=from-first; Path=/"})
    other_origin.expect_request("/next").respond_with_data("ok")
    http_fetch(httpserver.url_for("/set"))
    http_fetch(other_origin.url_for("/next"))
    assert "Cookie" not in _received_headers(other_origin)


@pytest.fixture
def drip_server():
    """A raw TCP server that answers every connection with a status line and headers one byte a second."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()
    answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: " + b"x" * 200 + b"\r\n\r\nhi"

    def drip(conn):
        with conn:
            for byte in answer:
                if stop.wait(1.0):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join()
    listener.close()


def test_headers_dripped_a_byte_a_second_hit_the_total_deadline(drip_server, settings):
    settings.TRENDSITE_FETCH_TOTAL_TIMEOUT = 2.5
    settings.TRENDSITE_FETCH_READ_TIMEOUT = 5.0  # each byte comes well within the per-read timeout
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"total time limit of 2\.5 s") as info:
        http_fetch(drip_server)
    assert 2.0 < time.monotonic() - started < 6.0
    assert not info.value.permanent


@pytest.mark.parametrize(
    "value", ["99999999999999999999", "²", "٣٠", "１２０", "soon", "12 seconds", "-5", "Wed, 99 Foo"]
)
def test_malformed_retry_after_is_like_no_header(value):
    assert retry_after_parse(value) is None


@pytest.mark.parametrize("value", ["99999999999999999999", "²", "\xb9\xb2\xb3", "Mon, 32 Jan 99999 99:99:99 GMT"])
def test_429_with_malformed_retry_after_fails_without_a_date(httpserver, value):
    httpserver.expect_request("/").respond_with_data("slow down", status=429, headers={"Retry-After": value})
    with pytest.raises(FetchError, match="HTTP 429") as info:
        http_fetch(httpserver.url_for("/"))
    assert info.value.retry_after is None and not info.value.permanent


def test_long_but_sane_retry_after_is_capped_at_a_day():
    now = timezone.now()
    assert retry_after_parse("9999999999", now=now) == now + timedelta(hours=24)
