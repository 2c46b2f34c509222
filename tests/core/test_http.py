"""The outbound client against local HTTP servers: guard, redirects, limits, conditional GET, Retry-After."""

import socket
import threading
from datetime import timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from apps.core.http import FetchError, http_fetch, retry_after_parse


@pytest.fixture
def silent_server():
    """A TCP server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    accepted = []
    stop = threading.Event()

    def serve():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_fetch_returns_body_and_sends_user_agent(httpserver, settings):
    httpserver.expect_request("/hello", headers={"User-Agent": settings.TRENDSITE_USER_AGENT}).respond_with_data("hi")
    response = http_fetch(httpserver.url_for("/hello"))
    assert (response.status_code, response.content) == (200, b"hi")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://example.com/x", "gopher://x/"])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(FetchError, match=r"only http and https|not a valid URL|no host") as info:
        http_fetch(url)
    assert info.value.permanent


def test_loopback_is_refused_with_the_guard_on(httpserver, settings):
    settings.TRENDSITE_OUTBOUND_ALLOW = []
    httpserver.expect_request("/").respond_with_data("secret")
    with pytest.raises(FetchError, match=r"refused to connect to 127\.0\.0\.1"):
        http_fetch(httpserver.url_for("/"))
    with pytest.raises(FetchError, match="refused"):
        http_fetch(f"http://localhost:{httpserver.port}/")
    assert not httpserver.log


@pytest.mark.parametrize(
    "target", ["http://127.0.0.2/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"]
)
def test_redirect_hops_are_rechecked_by_the_guard(httpserver, settings, target):
    settings.TRENDSITE_OUTBOUND_ALLOW = ["127.0.0.1/32"]
    httpserver.expect_request("/go").respond_with_data("", status=302, headers={"Location": target})
    with pytest.raises(FetchError, match="refused to connect") as info:
        http_fetch(httpserver.url_for("/go"))
    assert info.value.permanent


def test_redirects_are_followed_up_to_five(httpserver):
    for hop in range(5):
        httpserver.expect_request(f"/r{hop}").respond_with_data("", status=301, headers={"Location": f"/r{hop + 1}"})
    httpserver.expect_request("/r5").respond_with_data("arrived")
    for hop in range(6):
        httpserver.expect_request(f"/s{hop}").respond_with_data("", status=302, headers={"Location": f"/s{hop + 1}"})
    httpserver.expect_request("/s6").respond_with_data("too far")
    assert http_fetch(httpserver.url_for("/r0")).content == b"arrived"
    with pytest.raises(FetchError, match="more than 5 redirects"):
        http_fetch(httpserver.url_for("/s0"))


def test_response_over_the_cap_is_refused_while_streaming(httpserver, settings):
    settings.TRENDSITE_FETCH_MAX_BYTES = 10 * 1024 * 1024
    chunk = b"x" * 65536

    def fifty_megabytes(request):
        return Response((chunk for _ in range(800)), content_type="application/xml")

    httpserver.expect_request("/big").respond_with_handler(fifty_megabytes)
    with pytest.raises(FetchError, match="exceeds the 10,485,760-byte cap"):
        http_fetch(httpserver.url_for("/big"))


def test_declared_oversize_is_refused_before_reading(httpserver):
    httpserver.expect_request("/big").respond_with_data("x" * 2000)
    with pytest.raises(FetchError, match="2,000 bytes, over the 1,000-byte cap"):
        http_fetch(httpserver.url_for("/big"), max_bytes=1000)


def test_server_that_never_answers_times_out(silent_server, settings):
    settings.TRENDSITE_FETCH_READ_TIMEOUT = 0.5
    with pytest.raises(FetchError, match="timed out") as info:
        http_fetch(silent_server)
    assert not info.value.permanent


def test_conditional_get_returns_304_without_body(httpserver):
    httpserver.expect_request("/feed", headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    response = http_fetch(httpserver.url_for("/feed"), etag='"v1"')
    assert response.not_modified and response.content == b""


def test_429_surfaces_retry_after(httpserver):
    httpserver.expect_request("/").respond_with_data("slow down", status=429, headers={"Retry-After": "120"})
    with pytest.raises(FetchError) as info:
        http_fetch(httpserver.url_for("/"))
    assert info.value.status_code == 429 and not info.value.permanent
    assert timedelta(seconds=110) < info.value.retry_after - timezone.now() <= timedelta(seconds=120)


def test_404_is_permanent_and_500_is_not(httpserver):
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    httpserver.expect_request("/oops").respond_with_data("", status=500)
    with pytest.raises(FetchError, match="HTTP 404") as gone:
        http_fetch(httpserver.url_for("/gone"))
    with pytest.raises(FetchError, match="HTTP 500") as oops:
        http_fetch(httpserver.url_for("/oops"))
    assert gone.value.permanent and not oops.value.permanent


def test_retry_after_accepts_http_dates_and_is_capped():
    now = timezone.now()
    assert retry_after_parse("Wed, 21 Oct 2099 07:28:00 GMT", now=now) == now + timedelta(hours=24)
    assert retry_after_parse("30", now=now) == now + timedelta(seconds=30)
    assert retry_after_parse("soon", now=now) is None


def test_malformed_json_is_a_clear_error(httpserver):
    httpserver.expect_request("/x.json").respond_with_data('{"a": [1, 2', content_type="application/json")
    with pytest.raises(FetchError, match=r"malformed JSON from http://localhost:\d+/x\.json"):
        http_fetch(httpserver.url_for("/x.json")).json()


def test_gzip_bomb_is_capped_on_decoded_size(httpserver):
    import gzip

    compressed = gzip.compress(b"\0" * (20 * 1024 * 1024))
    httpserver.expect_request("/bomb").respond_with_data(compressed, headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="exceeds the 10,485,760-byte cap"):
        http_fetch(httpserver.url_for("/bomb"))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
    ],
)
def test_guard_refuses_non_public_addresses(settings, address):
    import ipaddress

    from apps.core.netguard import AddressRefused, address_check

    settings.TRENDSITE_OUTBOUND_ALLOW = []
    with pytest.raises(AddressRefused):
        address_check(ipaddress.ip_address(address))


def test_guard_lets_public_and_allowed_addresses_through(settings):
    import ipaddress

    from apps.core.netguard import address_check

    settings.TRENDSITE_OUTBOUND_ALLOW = ["10.0.0.0/8"]
    address_check(ipaddress.ip_address("93.184.215.14"))
    address_check(ipaddress.ip_address("2606:4700::6810:84e5"))
    address_check(ipaddress.ip_address("10.9.9.9"))


def test_post_sends_a_raw_body_and_can_hand_back_an_error_answer(httpserver):
    httpserver.expect_request("/hook", method="POST", data=b'{"a":1}').respond_with_data("no_service", status=404)
    url = httpserver.url_for("/hook")

    answer = http_fetch(url, method="POST", content=b'{"a":1}', raise_for_status=False)

    assert (answer.status_code, answer.content) == (404, b"no_service")
    with pytest.raises(FetchError) as caught:
        http_fetch(url, method="POST", content=b'{"a":1}')
    assert caught.value.permanent and caught.value.status_code == 404
