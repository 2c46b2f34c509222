"""Digests: the top trends since a subscriber's last digest, by email, once per day or week.

The ``DigestDelivery`` row unique per (subscription, period) is the claim: whoever inserts it sends, so the
task running twice (or on two workers) sends one digest. A temporary mail failure leaves the row ``failed``;
the next run claims it back (failed -> sending) and tries again within the same period.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.template.loader import render_to_string
from django.utils import timezone

from apps.alerts.models import DigestDelivery, DigestSubscription
from apps.alerts.subjects import TREND_LABEL, admin_link
from apps.alerts.transports import TransportError
from apps.alerts.transports.email import email_send
from apps.core.switches import DIGESTS, switch_on
from apps.trends.models import Trend, TrendSnapshot
from apps.trends.selectors import trends_top

PERIOD_LENGTH = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


@dataclass(frozen=True)
class DigestEntry:
    title: str
    state: str
    score: float
    change: str  # "new" or a signed score difference since the last digest
    key_points: list[str]
    link: str
    category: str


def digest_period(*, subscription: DigestSubscription, now: datetime) -> str | None:
    """The period this digest is due for at ``now`` (``2026-11-23`` / ``2026-W48``), or None when not due yet.

    Daily: from ``send_hour`` local time on. Weekly: Mondays from ``send_hour`` local time on."""
    local = now.astimezone(ZoneInfo(subscription.time_zone))
    if local.hour < subscription.send_hour:
        return None
    if subscription.frequency == DigestSubscription.Frequency.WEEKLY:
        if local.weekday() != 0:
            return None
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def digest_since(*, subscription: DigestSubscription, now: datetime) -> datetime:
    return subscription.last_sent_at or now - PERIOD_LENGTH[subscription.frequency]


def digest_trends(*, subscription: DigestSubscription, since: datetime) -> list[DigestEntry]:
    """The top live trends that moved since ``since`` and pass the subscriber's filters, best first with
    categories balanced (``trends_top``)."""
    score_then = TrendSnapshot.objects.filter(trend=OuterRef("pk"), taken_at__lte=since).order_by("-taken_at")
    trends: QuerySet[Trend] = (
        Trend.objects.exclude(state=Trend.State.DEAD)
        .filter(Q(updated_at__gt=since) | Q(state_changed_at__gt=since), score__gte=subscription.min_score)
        .select_related("category")
        .annotate(score_then=Subquery(score_then.values("score")[:1]))
        .order_by("-score", "pk")
    )
    category_ids = list(subscription.categories.values_list("pk", flat=True))
    if category_ids:
        trends = trends.filter(category_id__in=category_ids)
    entries = []
    for trend in trends_top(limit=settings.DIGEST_MAX_TRENDS, pool=trends):
        if trend.first_detected_at > since or trend.score_then is None:
            change = "new"
        else:
            change = f"{trend.score - trend.score_then:+.2f}"
        entries.append(
            DigestEntry(
                title=trend.title,
                state=trend.state,
                score=round(trend.score, 2),
                change=change,
                key_points=[str(p) for p in (trend.key_points or [])[:3]],
                link=admin_link(TREND_LABEL, trend.pk),
                category=trend.category.name if trend.category_id else "",
            )
        )
    return entries


def digest_render(*, subscription: DigestSubscription, entries: list[DigestEntry], since: datetime) -> tuple[str, ...]:
    """(subject, text, html) of one digest."""
    context = {"subscription": subscription, "entries": entries, "since": since}
    subject = " ".join(render_to_string("alerts/digest/subject.txt", context).split())
    return (
        subject,
        render_to_string("alerts/digest/body.txt", context),
        render_to_string("alerts/digest/body.html", context),
    )


def _claim(subscription: DigestSubscription, period: str) -> DigestDelivery | None:
    try:
        with transaction.atomic():
            return DigestDelivery.objects.create(subscription=subscription, period=period)
    except IntegrityError:
        reclaimed = DigestDelivery.objects.filter(
            subscription=subscription, period=period, status=DigestDelivery.Status.FAILED
        ).update(status=DigestDelivery.Status.SENDING, error="")
        return DigestDelivery.objects.get(subscription=subscription, period=period) if reclaimed else None


def digest_send(*, subscription: DigestSubscription, now: datetime | None = None, dry_run: bool = False) -> str:
    """Send this subscriber's digest if it is due and not sent for this period; returns what happened."""
    now = now or timezone.now()
    period = digest_period(subscription=subscription, now=now)
    if period is None:
        return "not due"
    if DigestDelivery.objects.filter(subscription=subscription, period=period).exclude(status="failed").exists():
        return "already sent"
    since = digest_since(subscription=subscription, now=now)
    entries = digest_trends(subscription=subscription, since=since)
    if dry_run:
        return f"would send {len(entries)} trends" if entries else "nothing new"
    delivery = _claim(subscription, period)
    if delivery is None:
        return "already sent"
    if not entries:
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.EMPTY)
        return "nothing new"
    subject, text, html = digest_render(subscription=subscription, entries=entries, since=since)
    try:
        email_send(to=[subscription.email], subject=subject, text=text, html=html)
    except TransportError as exc:
        DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.FAILED, error=exc.message)
        return f"failed: {exc.message}"
    DigestDelivery.objects.filter(pk=delivery.pk).update(status=DigestDelivery.Status.SENT, trend_count=len(entries))
    DigestSubscription.objects.filter(pk=subscription.pk).update(last_sent_at=now)
    return "sent"


def digests_send_due(*, now: datetime | None = None, dry_run: bool = False) -> Counter:
    """Every enabled subscription's digest that is due; counts by outcome ("sent", "nothing new", ...)."""
    if not switch_on(DIGESTS):
        return Counter({"skipped (switch off)": 1})
    outcomes: Counter = Counter()
    for subscription in DigestSubscription.objects.filter(enabled=True).order_by("pk"):
        outcome = digest_send(subscription=subscription, now=now, dry_run=dry_run)
        outcomes[outcome.split(":")[0]] += 1
    return outcomes
