"""Alert delivery: events -> notifications (same transaction as the claim) -> one send per notification.

Exactly once: ``alerts_dispatch`` claims events and writes their notifications in one transaction, so a worker
dying before commit leaves the events unclaimed and one dying after leaves pending notifications that the next
pass enqueues again. ``notification_send`` claims its row with a conditional UPDATE (pending -> sending), so two
tasks for one notification send it once, and a row already sent is never claimed again.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Count, F, Max, Prefetch, Q
from django.utils import timezone

from apps.alerts.channel_config import channel_secrets_scrubbed
from apps.alerts.delivery_metrics import notification_outcome_count
from apps.alerts.matching import rule_matches
from apps.alerts.models import (
    SEVERITY_RANK,
    AlertRule,
    Channel,
    Notification,
    NotificationAttempt,
    severity_at_least,
)
from apps.alerts.subjects import EventContext, event_contexts
from apps.alerts.transports import TRANSPORTS, AlertMessage, TransportError, transport_class, transport_for
from apps.alerts.watch_matching import watch_matches_record
from apps.core.services import events_claim
from apps.core.switches import switch_on

Status, Reason = Notification.Status, Notification.Reason
STORM_WINDOW = timedelta(minutes=10)
STORM_KIND = "alerts.storm"
TEST_KIND = "alerts.test"
MAX_BACKOFF_SECONDS = 3600
ERROR_MAX_CHARS = 2000
# Channel kinds an operator can switch off as a whole (apps.core.switches); console is for development.


@dataclass
class DispatchResult:
    events: int = 0
    created: Counter = field(default_factory=Counter)  # "pending", "suppressed (cooldown)", ...
    pending_ids: list[int] = field(default_factory=list)
    watch_matches: int = 0

    @property
    def notifications(self) -> int:
        return sum(self.created.values())


def _message(context: EventContext, rule: AlertRule) -> dict[str, Any]:
    return AlertMessage(
        event_kind=context.kind,
        title=context.title,
        text=context.text,
        severity=rule.severity,
        fields=context.fields,
        link=context.link,
        data={**context.data, "rule": rule.name},
    ).to_dict()


def _dedup_key(rule: AlertRule, context: EventContext) -> str:
    state = f":{context.state}" if context.state else ""
    return f"rule:{rule.pk}:{context.subject_key}{state}:event:{context.event.pk}"[:200]


def _recent_alerts(
    rules: list[AlertRule], contexts: list[EventContext], now: datetime
) -> dict[tuple[int, str], datetime]:
    """(rule, subject) -> when it last alerted, within the longest cooldown of these rules."""
    longest = max((r.cooldown_minutes for r in rules), default=0)
    if not longest:
        return {}
    rows = (
        Notification.objects.filter(
            rule__in=[r.pk for r in rules],
            subject_key__in={c.subject_key for c in contexts},
            created_at__gte=now - timedelta(minutes=longest),
        )
        .exclude(status=Status.SUPPRESSED)
        .values_list("rule_id", "subject_key")
        .annotate(last=Max("created_at"))
    )
    return {(rule_id, subject): last for rule_id, subject, last in rows}


def _storm_counts(now: datetime) -> Counter:
    """Notifications per channel in the storm window that went (or go) out, summaries excluded."""
    rows = (
        Notification.objects.filter(created_at__gte=now - STORM_WINDOW)
        .exclude(status=Status.SUPPRESSED)
        .exclude(event_kind__in=[STORM_KIND, TEST_KIND])
        .values_list("channel_id")
        .annotate(n=Count("id"))
    )
    return Counter(dict(rows))


def alerts_dispatch(*, limit: int | None = None, enqueue: bool = True) -> DispatchResult:
    """Claim up to ``limit`` events and write one notification per matching (rule, channel), atomically.

    A subject that alerted on the rule within ``cooldown_minutes`` is written ``suppressed (cooldown)``; past
    ``ALERTS_STORM_LIMIT`` per channel in 10 minutes ``suppressed (storm)`` (folded later into one summary).
    With ``enqueue`` one send task per pending notification goes to the broker after commit.
    """
    limit = limit or settings.ALERTS_DISPATCH_BATCH
    result = DispatchResult()
    with transaction.atomic():
        events = events_claim(limit=limit)
        result.events = len(events)
        if not events:
            return result
        enabled_channels = Prefetch("channels", queryset=Channel.objects.filter(enabled=True))
        rules = list(AlertRule.objects.filter(enabled=True).prefetch_related(enabled_channels).order_by("pk"))
        contexts = event_contexts(events)
        now = timezone.now()
        last_alerted = _recent_alerts(rules, contexts, now)
        storm = _storm_counts(now)
        storm_limit = settings.ALERTS_STORM_LIMIT
        rows: list[NotificationRow] = []
        suppressed: list[tuple[str, str]] = []
        for context in contexts:
            for rule in rules:
                if not rule_matches(rule, context):
                    continue
                key = (rule.pk, context.subject_key)
                previous = last_alerted.get(key)
                cooling = previous is not None and now - previous < timedelta(minutes=rule.cooldown_minutes)
                alerted = False
                message = None
                for channel in rule.channels.all():
                    if not severity_at_least(rule.severity, channel.min_severity):
                        continue
                    status, reason = Status.PENDING, ""
                    if cooling:
                        status, reason = Status.SUPPRESSED, Reason.COOLDOWN
                    elif storm[channel.pk] >= storm_limit:
                        status, reason = Status.SUPPRESSED, Reason.STORM
                    else:
                        storm[channel.pk] += 1
                        alerted = True
                    if status == Status.SUPPRESSED:
                        suppressed.append((channel.kind, reason))
                    message = message or json.dumps(_message(context, rule), cls=DjangoJSONEncoder)
                    rows.append(
                        NotificationRow(
                            channel.pk,
                            rule.pk,
                            context.event.pk,
                            context.kind,
                            context.subject_key,
                            _dedup_key(rule, context),
                            rule.severity,
                            message,
                            status,
                            reason,
                        )
                    )
                if alerted and rule.cooldown_minutes:
                    last_alerted[key] = now
        result.created.update(f"{row.status} ({row.reason})" if row.reason else row.status for row in rows)
        result.pending_ids = _notifications_write(rows, event_ids=[e.pk for e in events])
        for kind, reason in suppressed:
            notification_outcome_count(kind=kind, status=Status.SUPPRESSED, reason=reason)
        # Watchlists see the same claimed events in the same transaction: matched exactly when claimed.
        watched = watch_matches_record(contexts=contexts)
        result.watch_matches = watched.matches
        if watched.pending_ids:
            result.created["pending"] += len(watched.pending_ids)
            result.pending_ids += watched.pending_ids
        if enqueue and result.pending_ids:
            _enqueue_on_commit(result.pending_ids)
    return result


class NotificationRow(NamedTuple):
    channel_id: int
    rule_id: int
    event_id: int
    event_kind: str
    subject_key: str
    dedup_key: str
    severity: str
    message: str  # JSON text
    status: str
    reason: str


_INSERT_SQL = """
    INSERT INTO {table} (channel_id, rule_id, event_id, event_kind, subject_key, dedup_key, severity, message,
                         status, reason, attempts, last_error, created_at)
    SELECT c, r, e, k, s, d, sev, m::jsonb, st, rs, 0, '', now()
    FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[],
                %s::text[], %s::text[], %s::text[]) AS t(c, r, e, k, s, d, sev, m, st, rs)
    ON CONFLICT (channel_id, dedup_key) DO NOTHING
    RETURNING id, status
"""


def _notifications_write(rows: list[NotificationRow], *, event_ids: list[int]) -> list[int]:
    """Insert the rows in one statement (ten array parameters, however many rows); the pending ones' ids.

    The events were just claimed, so a conflict on (channel, dedup_key) means an event put back by hand: the
    rows it already has stay as they are, and its pending ones are looked up to be sent."""
    if not rows:
        return []
    columns = [list(column) for column in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_SQL.format(table=Notification._meta.db_table), columns)
        inserted = cursor.fetchall()
    if len(inserted) < len(rows):
        pending = Notification.objects.filter(event__in=event_ids, status=Status.PENDING)
        return list(pending.values_list("pk", flat=True))
    return [pk for pk, status in inserted if status == Status.PENDING]


def _enqueue_on_commit(ids: list[int], countdown: float | None = None) -> None:
    from apps.alerts.tasks import notifications_enqueue

    transaction.on_commit(lambda: notifications_enqueue(ids, countdown=countdown))


@transaction.atomic
def storm_summaries_write(*, enqueue: bool = True) -> list[int]:
    """Fold each channel's storm-suppressed notifications into one summary message ("37 more alerts
    suppressed: …"), at most one summary per channel per storm window; returns the summaries' ids."""
    now = timezone.now()
    recent_summary = Notification.objects.filter(event_kind=STORM_KIND, created_at__gte=now - STORM_WINDOW).values_list(
        "channel_id", flat=True
    )
    waiting = (
        Notification.objects.filter(status=Status.SUPPRESSED, reason=Reason.STORM, folded_into__isnull=True)
        .exclude(channel_id__in=recent_summary)
        .select_for_update(skip_locked=True)
        .order_by("channel_id", "id")
    )
    by_channel: dict[int, list[Notification]] = {}
    for row in waiting:
        by_channel.setdefault(row.channel_id, []).append(row)
    summary_ids = []
    for channel_id, rows in by_channel.items():
        titles = [row.message.get("title", row.event_kind) for row in rows]
        shown = "; ".join(titles[:10]) + (f"; and {len(titles) - 10} more" if len(titles) > 10 else "")
        worst = max((row.severity for row in rows), key=lambda s: SEVERITY_RANK.get(s, 0))
        summary = Notification.objects.create(
            channel_id=channel_id,
            event_kind=STORM_KIND,
            subject_key="storm",
            dedup_key=f"storm:{channel_id}:{rows[0].pk}",
            severity=worst,
            message=AlertMessage(
                event_kind=STORM_KIND,
                title=f"{len(rows)} more alerts suppressed",
                text=f"{len(rows)} more alerts suppressed: {shown}"[:3000],
                severity=worst,
                fields=[("Storm limit", f"{settings.ALERTS_STORM_LIMIT} per 10 minutes")],
                data={"count": len(rows), "titles": titles[:50]},
            ).to_dict(),
        )
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(folded_into=summary)
        summary_ids.append(summary.pk)
    if enqueue and summary_ids:
        _enqueue_on_commit(summary_ids)
    return summary_ids


def notifications_due(*, now: datetime | None = None, stale_seconds: int = 0) -> list[int]:
    """Pending notifications whose time has come, and sending ones whose worker vanished (lease expired).

    ``stale_seconds`` skips pending rows younger than that: their send task is most likely still queued."""
    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.ALERTS_SENDING_LEASE_SECONDS)
    due = Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    if stale_seconds:
        due &= Q(created_at__lte=now - timedelta(seconds=stale_seconds))
    lost = Q(status=Status.SENDING, claimed_at__lt=lease)
    return list(Notification.objects.filter(due | lost).order_by("pk").values_list("pk", flat=True)[:10_000])


def _claim(notification_id: int, now: datetime) -> bool:
    lease = now - timedelta(seconds=settings.ALERTS_SENDING_LEASE_SECONDS)
    claimable = Q(status=Status.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    claimable |= Q(status=Status.SENDING, claimed_at__lt=lease)
    return (
        Notification.objects.filter(claimable, pk=notification_id).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        == 1
    )


def retry_delay(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: exponential from ALERTS_RETRY_BASE_SECONDS, ±20 % jitter."""
    base = settings.ALERTS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return min(base, MAX_BACKOFF_SECONDS) * random.uniform(0.8, 1.2)


@dataclass
class SendOutcome:
    status: str  # sent, retry, failed, suppressed, skipped
    detail: str = ""
    retry_at: datetime | None = None

    def __str__(self) -> str:
        return f"{self.status}: {self.detail}" if self.detail else self.status


def _finish(notification: Notification, claimed_at: datetime, **fields) -> None:
    # Only the claim that is still ours may write the outcome (a lease-expired reclaim owns the row now).
    written = Notification.objects.filter(pk=notification.pk, status=Status.SENDING, claimed_at=claimed_at).update(
        **fields
    )
    if written:
        notification_outcome_count(
            kind=notification.channel.kind, status=fields["status"], reason=fields.get("reason", "")
        )


def notification_send(*, notification_id: int) -> SendOutcome:
    """Send one notification if it is due and nobody else holds it; record the attempt and the outcome.

    Temporary failures come back ``pending`` after an exponential backoff with jitter (or the peer's
    Retry-After) until ALERTS_MAX_ATTEMPTS; permanent ones fail at once, and an answer meaning the destination
    is gone disables the channel with the reason."""
    now = timezone.now()
    if not _claim(notification_id, now):
        return SendOutcome("skipped", "not due, or already claimed or sent")
    notification = Notification.objects.select_related("channel").get(pk=notification_id)
    channel = notification.channel
    switch = transport_class(channel.kind).switch if channel.kind in TRANSPORTS else ""
    if not channel.enabled or (switch and not switch_on(switch)):
        reason = Reason.CHANNEL_DISABLED if not channel.enabled else Reason.SWITCH_OFF
        _finish(notification, now, status=Status.SUPPRESSED, reason=reason, attempts=F("attempts") - 1)
        return SendOutcome("suppressed", reason)
    error: TransportError | None = None
    started = time.monotonic()
    try:
        channel_deliver(channel=channel, message=AlertMessage.from_dict(notification.message))
    except TransportError as exc:
        error = exc
    except Exception as exc:  # noqa: BLE001 - a transport bug must not lose the notification: retry, recorded
        error = TransportError(f"{type(exc).__name__}: {exc}")
    duration_ms = int((time.monotonic() - started) * 1000)
    message = channel_secrets_scrubbed(kind=channel.kind, config=channel.config, text=error.message) if error else ""
    message = message[:ERROR_MAX_CHARS]
    NotificationAttempt.objects.create(
        notification=notification,
        number=notification.attempts,
        started_at=now,
        duration_ms=duration_ms,
        ok=error is None,
        error=message,
    )
    finished = timezone.now()
    if error is None:
        _finish(notification, now, status=Status.SENT, sent_at=finished, last_error="", next_attempt_at=None)
        Channel.objects.filter(pk=channel.pk).update(last_sent_at=finished, last_error="")
        return SendOutcome("sent")
    Channel.objects.filter(pk=channel.pk).update(last_error=message)
    if error.disable:
        Channel.objects.filter(pk=channel.pk).update(enabled=False, disabled_reason=message)
    if error.permanent or notification.attempts >= settings.ALERTS_MAX_ATTEMPTS:
        _finish(notification, now, status=Status.FAILED, last_error=message, next_attempt_at=None)
        return SendOutcome("failed", message)
    retry_at = error.retry_after or finished + timedelta(seconds=retry_delay(notification.attempts))
    _finish(notification, now, status=Status.PENDING, last_error=message, next_attempt_at=retry_at)
    return SendOutcome("retry", message, retry_at=retry_at)


@transaction.atomic
def notification_resend(*, notification: Notification) -> Notification:
    """Send a notification again (an operator's decision): back to pending, due now, attempts kept."""
    Notification.objects.filter(pk=notification.pk).exclude(status=Status.SENDING).update(
        status=Status.PENDING, reason="", next_attempt_at=None
    )
    _enqueue_on_commit([notification.pk])
    notification.refresh_from_db()
    return notification


def channel_reenable(*, channel: Channel) -> Channel:
    """Switch a channel back on and forget why it was disabled."""
    Channel.objects.filter(pk=channel.pk).update(enabled=True, disabled_reason="", last_error="")
    channel.refresh_from_db()
    return channel


def channel_test_message(*, channel: Channel) -> AlertMessage:
    """The message "send test" and ``send_test_alert`` deliver."""
    return AlertMessage(
        event_kind=TEST_KIND,
        title=f"Test alert for channel {channel.name}",
        text="If you can read this, trendsite can reach this channel.",
        severity="info",
        fields=[("Channel", channel.name), ("Kind", channel.kind)],
        link=settings.ALERTS_SITE_URL.rstrip("/") + "/admin/alerts/channel/",
        data={"channel": channel.name},
    )


def channel_test_send(*, channel: Channel, wait_retry_after: float = 0.0) -> None:
    """Send a test message through the channel's real transport now; TransportError when it fails.

    With ``wait_retry_after`` > 0 one 429 whose Retry-After is at most that many seconds is waited out and
    the message tried once more. Records the outcome on the channel (last_sent_at / last_error)."""
    message = channel_test_message(channel=channel)
    try:
        try:
            channel_deliver(channel=channel, message=message)
        except TransportError as exc:
            wait = (exc.retry_after - timezone.now()).total_seconds() if exc.retry_after else None
            if exc.permanent or wait is None or wait > wait_retry_after:
                raise
            time.sleep(max(wait, 0))
            channel_deliver(channel=channel, message=message)
    except TransportError as exc:
        Channel.objects.filter(pk=channel.pk).update(last_error=exc.message[:ERROR_MAX_CHARS])
        if exc.disable:
            Channel.objects.filter(pk=channel.pk).update(enabled=False, disabled_reason=exc.message[:ERROR_MAX_CHARS])
        raise
    Channel.objects.filter(pk=channel.pk).update(last_sent_at=timezone.now(), last_error="")


def channel_deliver(*, channel: Channel, message: AlertMessage) -> None:
    """Send ``message`` through the channel's transport; a TransportError whose message never quotes the
    channel's credentials (it is stored, shown in the admin and printed by commands)."""
    try:
        transport_for(channel).send(message)
    except TransportError as exc:
        exc.message = channel_secrets_scrubbed(kind=channel.kind, config=channel.config, text=exc.message)
        exc.args = (exc.message,)
        raise
