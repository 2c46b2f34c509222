"""/metrics is never public: a bearer token or a staff session; with no token set, 404 to all but staff."""

import pytest

pytestmark = pytest.mark.django_db


def test_no_token_set_hides_metrics_from_anonymous(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_no_token_set_staff_still_reads_metrics(staff_client, settings):
    settings.METRICS_TOKEN = ""
    response = staff_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert b"trendsite_pipeline_lag_seconds" in response.content


def test_token_set_anonymous_gets_401_with_bearer_challenge(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic czNjcmV0").status_code == 401


def test_token_set_right_bearer_reads_metrics(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert response.status_code == 200
    assert b"trendsite_trends" in response.content
    # django-prometheus' request metrics are on the same page.
    assert b"django_http_requests_total_by_method_total" in response.content


def test_non_staff_user_is_not_let_in(client, settings, django_user_model):
    settings.METRICS_TOKEN = ""
    django_user_model.objects.create_user("reader", password="pw")
    client.login(username="reader", password="pw")
    assert client.get("/metrics").status_code == 404
