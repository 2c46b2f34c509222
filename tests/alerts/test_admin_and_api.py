"""The alerts console and API: status, masked secrets, actions, filters; staff only."""

import json

import pytest
from django.test import override_settings
from django.urls import include, path, reverse
from rest_framework.routers import DefaultRouter
from rest_framework.test import APIClient

from apps.alerts import api
from apps.alerts.models import AlertRule, Channel, Notification
from apps.core.config_secrets import MASK
from tests.alerts.factories import ChannelFactory, RuleFactory

pytestmark = pytest.mark.django_db
HOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX"

_router = DefaultRouter()
api.register(_router)
urlpatterns = [
    path("admin/", __import__("django.contrib.admin").contrib.admin.site.urls),
    path("api/v1/", include(_router.urls)),
]


def _notification(channel, status="failed", **fields):
    return Notification.objects.create(
        channel=channel,
        event_kind="trend.created",
        dedup_key=f"k{Notification.objects.count()}",
        message={"title": "Chip ban"},
        status=status,
        **fields,
    )


def test_channel_list_shows_status_and_last_error_without_secrets(admin_client):
    ChannelFactory(name="slack-ops", kind="slack", config={"webhook_url": HOOK}, last_error="Slack answered HTTP 500")
    ChannelFactory(name="gone", kind="slack", config={"webhook_url": HOOK}, enabled=False, disabled_reason="no_service")
    page = admin_client.get(reverse("admin:alerts_channel_changelist")).content.decode()
    assert "failing" in page and "disabled" in page and "Slack answered HTTP 500" in page and "no_service" in page
    assert "XXXXSECRETXXXX" not in page


def test_channel_form_masks_the_webhook_and_keeps_it_when_the_mask_comes_back(admin_client):
    channel = ChannelFactory(name="slack-ops", kind="slack", config={"webhook_url": HOOK})
    url = reverse("admin:alerts_channel_change", args=[channel.pk])
    page = admin_client.get(url).content.decode()
    assert MASK in page and "XXXXSECRETXXXX" not in page

    form = {"name": "slack-ops", "kind": "slack", "config": json.dumps({"webhook_url": MASK}), "enabled": "on"}
    response = admin_client.post(url, {**form, "min_severity": "warning"})

    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.config == {"webhook_url": HOOK} and channel.min_severity == "warning"


def test_channel_config_errors_are_one_line_each(admin_client):
    response = admin_client.post(
        reverse("admin:alerts_channel_add"),
        {
            "name": "mail",
            "kind": "email",
            "config": '{"to": ["ops@example.com", "nobody"], "cc": []}',
            "min_severity": "info",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Channel &#x27;mail&#x27; config: unknown key &#x27;cc&#x27; (known: to)" in page
    assert "Channel &#x27;mail&#x27; config: &#x27;to&#x27; has an invalid address &#x27;nobody&#x27;" in page
    assert not Channel.objects.exists()


def test_send_test_and_reenable_actions(admin_client, capsys):
    console = ChannelFactory(name="dev", enabled=False, disabled_reason="was gone")
    changelist = reverse("admin:alerts_channel_changelist")
    admin_client.post(changelist, {"action": "reenable", "_selected_action": [console.pk]})
    admin_client.post(changelist, {"action": "send_test", "_selected_action": [console.pk]}, follow=True)
    console.refresh_from_db()
    assert console.enabled and console.disabled_reason == "" and console.last_sent_at is not None
    assert "Test alert for channel dev" in capsys.readouterr().out


def test_notifications_log_filters_and_resend(admin_client):
    slack, mail = ChannelFactory(name="slack"), ChannelFactory(name="mail")
    failed = _notification(slack, last_error="Slack answered HTTP 500")
    _notification(mail, status="sent")
    changelist = reverse("admin:alerts_notification_changelist")

    page = admin_client.get(changelist, {"status__exact": "failed"}).content.decode()
    assert "Slack answered HTTP 500" in page and page.count('<td class="field-title">Chip ban</td>') == 1
    assert admin_client.get(changelist, {"channel__id__exact": mail.pk, "created_at__year": 2026}).status_code == 200

    admin_client.post(changelist, {"action": "resend", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == "pending" and failed.next_attempt_at is None


def test_rule_with_an_unknown_state_is_refused_in_the_admin(admin_client):
    response = admin_client.post(
        reverse("admin:alerts_alertrule_add"),
        {
            "name": "viral",
            "event_kinds": '["trend.state_changed"]',
            "states": '["hot"]',
            "categories": "[]",
            "keywords": "[]",
            "sources": "[]",
            "min_score": 0,
            "severity": "info",
            "cooldown_minutes": 60,
            "enabled": "on",
        },
    )
    assert response.status_code == 200 and "unknown value &#x27;hot&#x27;" in response.content.decode()
    assert not AlertRule.objects.exists()


@override_settings(ROOT_URLCONF=__name__)
def test_api_is_staff_only_and_masks_channel_secrets(django_user_model):
    channel = ChannelFactory(name="hook", kind="webhook", config={"url": "https://example.com/h", "secret": "s" * 20})
    RuleFactory(name="viral", states=["viral"], channels=[channel])
    _notification(channel)
    client = APIClient()
    assert client.get("/api/v1/alerts/channels/").status_code == 401  # anonymous: log in first
    client.force_authenticate(django_user_model.objects.create_user("ann", is_staff=False))
    assert client.get("/api/v1/alerts/rules/").status_code == 403
    client.force_authenticate(django_user_model.objects.create_user("ops", is_staff=True))

    channels = client.get("/api/v1/alerts/channels/").json()["results"]
    rules = client.get("/api/v1/alerts/rules/").json()["results"]
    notifications = client.get("/api/v1/alerts/notifications/", {"status": "failed", "channel": "hook"}).json()

    assert channels[0]["config"] == {"url": "https://example.com/h", "secret": MASK}
    assert rules[0]["channels"] == ["hook"] and rules[0]["states"] == ["viral"]
    assert len(notifications["results"]) == 1 and notifications["results"][0]["channel"] == "hook"
    assert client.get("/api/v1/alerts/notifications/", {"status": "sent"}).json()["results"] == []
    assert client.post("/api/v1/alerts/notifications/", {}).status_code == 405


@override_settings(ROOT_URLCONF=__name__)
def test_api_validates_channels_and_rules_with_clear_messages(admin_user):
    client = APIClient()
    client.force_authenticate(admin_user)
    stored = ChannelFactory(name="hook", kind="webhook", config={"url": "https://example.com/h", "secret": "s" * 20})

    bad_channel = client.post("/api/v1/alerts/channels/", {"name": "x", "kind": "slack", "config": {}}, format="json")
    bad_rule = client.post("/api/v1/alerts/rules/", {"name": "r", "event_kinds": ["trend.born"]}, format="json")
    kept = client.patch(
        "/api/v1/alerts/channels/hook/", {"config": {"url": "https://example.com/new", "secret": MASK}}, format="json"
    )

    assert bad_channel.status_code == 400
    assert bad_channel.json()["fields"]["config"] == [
        "Channel 'x' config: 'webhook_url' is required (the Slack incoming-webhook URL)"
    ]
    assert bad_rule.status_code == 400 and "unknown value 'trend.born'" in bad_rule.json()["fields"]["event_kinds"][0]
    assert kept.status_code == 200
    stored.refresh_from_db()
    assert stored.config == {"url": "https://example.com/new", "secret": "s" * 20}


def test_rule_and_digest_pages_open(admin_client):
    from apps.alerts.models import DigestDelivery
    from tests.alerts.factories import DigestSubscriptionFactory

    RuleFactory(name="viral tech", states=["viral"], channels=[ChannelFactory()])
    subscription = DigestSubscriptionFactory(email="ann@example.com")
    DigestDelivery.objects.create(subscription=subscription, period="2026-11-23", status="sent", trend_count=4)
    assert "viral tech" in admin_client.get(reverse("admin:alerts_alertrule_changelist")).content.decode()
    assert "ann@example.com" in admin_client.get(reverse("admin:alerts_digestsubscription_changelist")).content.decode()
    page = admin_client.get(reverse("admin:alerts_digestsubscription_change", args=[subscription.pk])).content.decode()
    assert "2026-11-23" in page
    assert "2026-11-23" in admin_client.get(reverse("admin:alerts_digestdelivery_changelist")).content.decode()


def test_a_webhook_url_moved_to_another_host_needs_the_secret_again(admin_client):
    config = {"url": "https://hooks.example/in", "secret": "s" * 20}
    channel = ChannelFactory(name="hook", kind="webhook", config=config)
    url = reverse("admin:alerts_channel_change", args=[channel.pk])
    form = {"name": "hook", "kind": "webhook", "enabled": "on", "min_severity": "info"}
    moved = json.dumps({"url": "https://collector.evil.example/in", "secret": MASK})
    page = admin_client.post(url, {**form, "config": moved}).content.decode()
    assert "re-enter secret: the destination changed" in page
    channel.refresh_from_db()
    assert channel.config == config

    same_host = json.dumps({"url": "https://hooks.example/other", "secret": MASK})
    assert admin_client.post(url, {**form, "config": same_host}).status_code == 302
    channel.refresh_from_db()
    assert channel.config == {"url": "https://hooks.example/other", "secret": "s" * 20}


@override_settings(ROOT_URLCONF=__name__)
def test_api_refuses_a_webhook_host_change_with_a_masked_secret(django_user_model):
    client = APIClient()
    client.force_authenticate(django_user_model.objects.create_user("ops2", is_staff=True))
    channel = ChannelFactory(
        name="hook", kind="webhook", config={"url": "https://hooks.example/in", "secret": "s" * 20}
    )
    response = client.patch(
        f"/api/v1/alerts/channels/{channel.name}/",
        {"config": {"url": "https://evil.example/in", "secret": MASK}},
        format="json",
    )
    assert response.status_code == 400
    assert "re-enter secret: the destination changed" in response.json()["detail"]
