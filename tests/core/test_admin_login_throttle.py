"""The admin login is throttled per address and per (username, address): 30 wrong passwords do not all get
checked, nobody can lock a named admin out from elsewhere, and the limit holds with the cache down or full."""

import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _hourly_rate(settings):
    # The same count per hour instead of per minute, so a window boundary never falls inside a test.
    settings.ADMIN_LOGIN_RATE = "10/h"


@pytest.fixture
def staff_user():
    return User.objects.create_superuser("ops", "ops@example.com", "right-password")


def _login(client, username, password, address="10.0.0.1"):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, REMOTE_ADDR=address)


def test_thirty_wrong_passwords_are_throttled_after_ten(client, staff_user):
    statuses = [_login(client, "ops", f"guess-{n}").status_code for n in range(30)]
    assert statuses[:10] == [200] * 10  # the login form again, with its error
    assert statuses[10:] == [429] * 20
    throttled = _login(client, "ops", "right-password")
    assert throttled.status_code == 429 and throttled["Retry-After"] == "3600"
    assert "Too many login attempts" in throttled.content.decode()
    assert "_auth_user_id" not in client.session  # even the right password is not checked while throttled


def test_one_username_from_one_address_is_throttled_whatever_the_spelling(client, staff_user):
    statuses = [_login(client, "OPS" if n % 2 else " ops", f"guess-{n}").status_code for n in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 2


def test_wrong_passwords_from_elsewhere_do_not_lock_the_admin_out(client, staff_user):
    for n in range(11):
        _login(client, "ops", f"guess-{n}", address="10.6.6.6")
    assert _login(client, "ops", "guess-x", address="10.6.6.6").status_code == 429
    response = _login(client, "ops", "right-password", address="10.0.0.2")  # the admin, from a fresh address
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff_user.pk)


def test_addresses_of_one_ipv6_64_share_the_login_budget(client, staff_user):
    statuses = [_login(client, f"user{n}", "guess", address=f"2001:db8:1:2::{n + 1:x}").status_code for n in range(11)]
    assert statuses[:10] == [200] * 10 and statuses[10] == 429
    assert _login(client, "user0", "guess", address="2001:db8:1:3::1").status_code == 200  # the next /64


def _throttle_on(settings, location: str) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "counters": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        },
    }
    settings.RATELIMIT_USE_CACHE = "counters"


@pytest.mark.parametrize("broken", ["down", "full"])
def test_without_its_counters_the_throttle_still_limits_in_process(
    client, staff_user, settings, caplog, broken, request
):
    _throttle_on(settings, "redis://127.0.0.1:1/0" if broken == "down" else request.getfixturevalue("full_redis"))
    address = f"10.{4 + (broken == 'full')}.4.4"  # the per-process counts outlive a test: one address per case
    statuses = [_login(client, "ops", f"guess-{n}", address=address).status_code for n in range(12)]
    assert statuses[:10] == [200] * 10 and statuses[10:] == [429] * 2
    assert "admin login throttle: cache unavailable, counting in this process instead" in caplog.text
    response = _login(client, "ops", "right-password", address="10.0.0.5")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff_user.pk)


def test_other_addresses_and_names_still_log_in(client, staff_user):
    for n in range(12):
        _login(client, "mallory", f"guess-{n}", address="10.9.9.9")
    response = _login(client, "ops", "right-password", address="10.0.0.2")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff_user.pk)


def test_the_login_page_itself_is_not_counted(client):
    for _ in range(20):
        assert client.get("/admin/login/", REMOTE_ADDR="10.0.0.3").status_code == 200
