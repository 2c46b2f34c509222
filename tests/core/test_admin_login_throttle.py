"""The admin login is throttled per address and per username: 30 wrong passwords do not all get checked."""

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


def test_one_username_from_many_addresses_is_throttled(client, staff_user):
    statuses = [_login(client, "OPS", f"guess-{n}", address=f"10.0.1.{n}").status_code for n in range(12)]
    assert statuses[-1] == 429 and statuses[:10] == [200] * 10


def test_other_addresses_and_names_still_log_in(client, staff_user):
    for n in range(12):
        _login(client, "mallory", f"guess-{n}", address="10.9.9.9")
    response = _login(client, "ops", "right-password", address="10.0.0.2")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(staff_user.pk)


def test_the_login_page_itself_is_not_counted(client):
    for _ in range(20):
        assert client.get("/admin/login/", REMOTE_ADDR="10.0.0.3").status_code == 200
