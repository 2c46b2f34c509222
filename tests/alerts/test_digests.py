"""Digests: the top trends since the last digest, once per period, at the subscriber's hour, nothing if nothing new."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from apps.alerts.digests import digest_send, digests_send_due
from apps.alerts.models import DigestDelivery, DigestSubscription
from apps.trends.models import Category, TrendSnapshot
from tests.alerts.conftest import parts
from tests.alerts.factories import DigestSubscriptionFactory, TrendFactory

pytestmark = pytest.mark.django_db
# 08:30 in Berlin on a Monday.
NOW = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


@pytest.fixture
def trends():
    tech = Category.objects.get_or_create(name="Technology")[0]
    sport = Category.objects.get_or_create(name="Sports")[0]
    recent = NOW - timedelta(hours=3)
    old = NOW - timedelta(days=3)
    rising = TrendFactory(
        title="Chip export ban widens",
        category=tech,
        state="viral",
        score=9.25,
        key_points=["US adds 40 firms", "Stocks fall"],
        updated_at=recent,
        first_detected_at=old,
    )
    TrendSnapshot.objects.create(trend=rising, taken_at=NOW - timedelta(days=2), score=6.0, item_count=3, velocity=1)
    fresh = TrendFactory(
        title="New battery chemistry", category=tech, score=4.5, updated_at=recent, first_detected_at=recent
    )
    TrendFactory(title="Cup final tonight", category=sport, score=8.0, updated_at=recent, first_detected_at=recent)
    TrendFactory(title="Weak signal", category=tech, score=0.5, updated_at=recent, first_detected_at=recent)
    TrendFactory(
        title="Old news", category=tech, score=7.0, updated_at=old, state_changed_at=old, first_detected_at=old
    )
    TrendFactory(title="Dead story", category=tech, score=9.9, state="dead", updated_at=recent)
    return {"rising": rising, "fresh": fresh, "tech": tech}


def test_digest_lists_the_top_new_trends_in_text_and_html(smtp_server, trends):
    subscription = DigestSubscriptionFactory(email="ann@example.com", min_score=1, time_zone="Europe/Berlin")
    subscription.categories.set([trends["tech"]])

    assert digest_send(subscription=subscription, now=NOW) == "sent"

    [message] = smtp_server
    assert message["To"] == "ann@example.com"
    assert message["Subject"].strip() == "[trendsite] Your daily digest: 2 trends — Chip export ban widens"
    body = parts(message)
    text, html = body["text/plain"], body["text/html"]
    assert text.index("1. Chip export ban widens") < text.index("2. New battery chemistry")
    assert "viral · score 9.25 (+3.25) · Technology" in text and "(new)" in text
    assert "- US adds 40 firms" in text
    assert f"/admin/trends/trend/{trends['rising'].pk}/change/" in text
    for absent in ("Cup final", "Weak signal", "Old news", "Dead story"):
        assert absent not in text
    assert (
        "<li>Stocks fall</li>" in html
        and f'href="http://127.0.0.1:8000/admin/trends/trend/{trends["rising"].pk}/change/"' in html
    )
    subscription.refresh_from_db()
    assert subscription.last_sent_at == NOW


def test_digest_is_sent_once_even_when_the_task_runs_twice(smtp_server, trends):
    DigestSubscriptionFactory(time_zone="Europe/Berlin")
    first = digests_send_due(now=NOW)
    second = digests_send_due(now=NOW + timedelta(minutes=10))
    assert (first, second) == ({"sent": 1}, {"already sent": 1})
    assert len(smtp_server) == 1
    assert DigestDelivery.objects.get().period == "2026-11-23"


def test_nothing_new_sends_nothing(smtp_server):
    subscription = DigestSubscriptionFactory()
    assert digest_send(subscription=subscription, now=NOW + timedelta(hours=2)) == "nothing new"
    assert smtp_server == [] and DigestDelivery.objects.get().status == "empty"


def test_digest_waits_for_the_send_hour_in_the_subscribers_time_zone(smtp_server, trends):
    berlin = DigestSubscriptionFactory(send_hour=9, time_zone="Europe/Berlin")
    tokyo = DigestSubscriptionFactory(send_hour=9, time_zone="Asia/Tokyo", frequency="weekly")  # 16:30 Monday there
    assert digest_send(subscription=berlin, now=NOW) == "not due"
    assert digest_send(subscription=tokyo, now=NOW) == "sent"
    assert digest_send(subscription=berlin, now=NOW + timedelta(hours=1)) == "sent"
    assert set(DigestDelivery.objects.values_list("period", flat=True)) == {"2026-11-23", "2026-W48"}
    assert digest_send(subscription=tokyo, now=NOW + timedelta(days=1)) == "not due"  # weekly: Mondays


def test_a_temporary_mail_failure_is_tried_again_in_the_same_period(settings, smtp_server, trends):
    subscription = DigestSubscriptionFactory(send_hour=7)
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 9
    assert digest_send(subscription=subscription, now=NOW).startswith("failed:")
    settings.EMAIL_PORT = port
    assert digest_send(subscription=subscription, now=NOW) == "sent"
    assert len(smtp_server) == 1 and DigestDelivery.objects.get().status == "sent"


def test_send_digests_dry_run_sends_nothing(smtp_server, trends):
    DigestSubscriptionFactory(send_hour=0)
    out = StringIO()
    call_command("send_digests", "--dry-run", stdout=out)
    assert out.getvalue().strip() == "Dry run! Digests: 1 would send 4 trends."
    assert smtp_server == [] and not DigestDelivery.objects.exists()


def test_switched_off_digests_are_skipped(smtp_server, trends):
    from waffle.models import Switch

    Switch.objects.update_or_create(name="digests", defaults={"active": False})
    DigestSubscriptionFactory(send_hour=0)
    assert digests_send_due(now=NOW) == {"skipped (switch off)": 1}
    assert smtp_server == []


def test_unknown_time_zone_is_a_clear_error():
    subscription = DigestSubscription(email="x@example.com", time_zone="Mars/Olympus", send_hour=25)
    with pytest.raises(ValidationError) as caught:
        subscription.full_clean()
    assert "unknown time zone 'Mars/Olympus'" in str(caught.value)
    assert "send_hour" in caught.value.message_dict


def test_digest_task_goes_to_the_digest_queue():
    from trendsite.celery import app

    route = app.amqp.router.route({}, "apps.alerts.tasks.digests_send_task")
    assert route["queue"].name == "digest"
    assert app.amqp.router.route({}, "apps.alerts.tasks.notification_send_task")["queue"].name == "alerts"


def test_digest_balances_categories_like_every_top_list():
    from apps.alerts.digests import digest_trends

    tech = Category.objects.get_or_create(name="Technology")[0]
    sport = Category.objects.get_or_create(name="Sports")[0]
    recent = NOW - timedelta(hours=3)
    for title, score, category in [("t1", 10, tech), ("t2", 9, tech), ("t3", 8, tech), ("s1", 7, sport)]:
        TrendFactory(title=title, category=category, score=score, updated_at=recent, first_detected_at=recent)
    subscription = DigestSubscriptionFactory()
    entries = digest_trends(subscription=subscription, since=NOW - timedelta(days=1))
    # t2 counts 9·0.7 = 6.3 and t3 8·0.49: the sports story (7) comes second, not fourth
    assert [entry.title for entry in entries] == ["t1", "s1", "t2", "t3"]
