import pytest
from django.contrib.auth.models import User


@pytest.mark.django_db
def test_staff_sees_the_apps_and_celery_beat_schedules_in_the_admin(client):
    User.objects.create_superuser("ops", "ops@example.com", "pw")
    client.login(username="ops", password="pw")
    index = client.get("/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    assert "/admin/django_celery_beat/periodictask/" in body
    assert "/admin/django_celery_results/taskresult/" in body
    assert client.get("/admin/django_celery_beat/periodictask/").status_code == 200


@pytest.mark.django_db
def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_openapi_schema_is_served(client, db):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"trendsite API" in response.content


@pytest.mark.parametrize(
    "model",
    [
        "alerts.notification",
        "alerts.digestdelivery",
        "plugins.collectionrun",
        "plugins.feedstate",
        "analytics.analyticssnapshot",
    ],
)
def test_rows_the_application_writes_cannot_be_added_or_edited_in_the_admin(model):
    from django.apps import apps as django_apps
    from django.contrib import admin as django_admin
    from django.test import RequestFactory

    from apps.core.admin_inlines import ReadOnlyModelAdmin

    model_admin = django_admin.site._registry[django_apps.get_model(model)]
    request = RequestFactory().get("/")
    assert isinstance(model_admin, ReadOnlyModelAdmin)
    assert not model_admin.has_add_permission(request) and not model_admin.has_change_permission(request)
