"""Batching channels: a window of watchlist matches leaves as one notification listing them all.

Exactly once per match, with workers that die: a flush claims a channel's open entries (locked with SKIP
LOCKED, then a conditional ``UPDATE … WHERE notification_id IS NULL`` that must hit every locked row) and
writes the one notification listing them in the same transaction. Dying before commit leaves the entries
open for the next flush; dying after leaves a pending notification that ``notification_send`` (itself a
conditional claim, marked sent only after the transport succeeded) sends once, re-queued by the deliver beat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.alerts.models import BatchEntry, Channel, Notification
from apps.alerts.transports import AlertMessage

BATCH_KIND = "watch.batch"


@dataclass
class FlushResult:
    notification_ids: list[int] = field(default_factory=list)
    entries: int = 0

    def __str__(self) -> str:
        return f"{len(self.notification_ids)} batches, {self.entries} matches"


def _due_channel_ids(now: datetime) -> list[int]:
    """Channels whose oldest open entry has waited their whole window."""
    sql = f"""
        SELECT e.channel_id FROM {BatchEntry._meta.db_table} e JOIN {Channel._meta.db_table} c ON c.id = e.channel_id
        WHERE e.notification_id IS NULL AND c.batch_minutes > 0
        GROUP BY e.channel_id, c.batch_minutes
        HAVING min(e.created_at) <= %s - c.batch_minutes * interval '1 minute'
        ORDER BY e.channel_id
    """  # noqa: S608 - table names from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [now])
        return [row[0] for row in cursor.fetchall()]


def batch_message(*, channel: Channel, entries: list[BatchEntry]) -> AlertMessage:
    """One message listing every match: "• title (viral, 8.20) — watchlist" per line."""
    limit = settings.WATCH_BATCH_MAX_LINES
    lines = [
        f"• {e.match.title} ({e.match.state}, {e.match.score:.2f}) — {e.match.watchlist.name}" for e in entries[:limit]
    ]
    if len(entries) > limit:
        lines.append(f"… and {len(entries) - limit} more (see /api/v1/me/matches/)")
    count = len(entries)
    return AlertMessage(
        event_kind=BATCH_KIND,
        title=f"{count} new watchlist match{'es' if count != 1 else ''}",
        text="\n".join(lines),
        fields=[("Matches", str(count)), ("Window", f"{channel.batch_minutes} min")],
        link=settings.ALERTS_SITE_URL.rstrip("/") + "/api/v1/me/matches/",
        data={"matches": [e.match_id for e in entries], "trends": [e.match.trend_key for e in entries]},
    )


def _channel_flush(channel: Channel) -> tuple[int, int] | None:
    with transaction.atomic():
        entries = list(
            BatchEntry.objects.filter(channel=channel, notification__isnull=True)
            .select_related("match__watchlist")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("id")
        )
        if not entries:
            return None
        message = batch_message(channel=channel, entries=entries)
        notification = Notification.objects.create(
            channel=channel,
            event_kind=BATCH_KIND,
            subject_key=f"batch:{channel.pk}",
            dedup_key=f"batch:{channel.pk}:{entries[0].pk}",
            message=message.to_dict(),
        )
        claimed = BatchEntry.objects.filter(pk__in=[e.pk for e in entries], notification__isnull=True).update(
            notification=notification
        )
        if claimed != len(entries):  # cannot happen under the row locks; never send a batch twice if it did
            transaction.set_rollback(True)
            return None
        return notification.pk, claimed


def batches_flush(*, now: datetime | None = None, enqueue: bool = True) -> FlushResult:
    """Write one notification per batching channel whose window is over; with ``enqueue`` their send tasks
    go to the broker after commit. Running it again, or concurrently, claims nothing twice."""
    now = now or timezone.now()
    result = FlushResult()
    channels = Channel.objects.in_bulk(_due_channel_ids(now))
    for channel in channels.values():
        flushed = _channel_flush(channel)
        if flushed:
            result.notification_ids.append(flushed[0])
            result.entries += flushed[1]
    if enqueue and result.notification_ids:
        from apps.alerts.tasks import notifications_enqueue

        notifications_enqueue(result.notification_ids)
    return result
