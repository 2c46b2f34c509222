"""Celery tasks of alerts: thin, take ids, idempotent (every send claims its row first)."""

from __future__ import annotations

from celery import shared_task
from kombu.utils.uuid import uuid

from apps.alerts import services

# Passes per beat tick: a backlog drains in one tick without one task running for ever.
MAX_DISPATCH_PASSES = 20
# A pending notification older than this whose task never ran (lost broker message, killed worker) is re-sent.
REQUEUE_AFTER_SECONDS = 120


def notifications_enqueue(ids: list[int], *, countdown: float | None = None) -> None:
    """One ``notification_send_task`` message per id, routed as configured (queue ``alerts``).

    A dispatch pass can enqueue thousands, so this skips what ``apply_async`` redoes per message (routing,
    option merging, declaring the queue) and pipelines the publishes (kombu's publish batch: one Redis round
    trip per 500 messages). The messages are the ones ``apply_async`` would send."""
    if not ids:
        return
    app, name = notification_send_task.app, notification_send_task.name
    route = app.amqp.router.route({}, name)
    with app.producer_or_acquire() as producer, producer.batch(max_size=500):
        for n, notification_id in enumerate(ids):
            message = app.amqp.create_task_message(
                uuid(), name, (notification_id,), {}, countdown=countdown, ignore_result=True
            )
            declare = None if n == 0 else []  # the queue once per batch, not once per message
            app.amqp.send_task_message(producer, name, message, declare=declare, **route)


@shared_task(name="apps.alerts.tasks.notification_send_task", acks_late=True, ignore_result=True)
def notification_send_task(notification_id: int) -> str:
    """Send one notification; a temporary failure schedules this task again at the retry time."""
    outcome = services.notification_send(notification_id=notification_id)
    if outcome.status == "retry" and outcome.retry_at:
        from django.utils import timezone

        delay = max((outcome.retry_at - timezone.now()).total_seconds(), 0)
        notification_send_task.apply_async(args=[notification_id], countdown=delay)
    return str(outcome)


@shared_task(name="apps.alerts.tasks.alerts_deliver_task", acks_late=True, ignore_result=True)
def alerts_deliver_task() -> str:
    """Beat, every minute: turn new events into notifications, fold storms, re-send what was lost."""
    events = notifications = 0
    for _ in range(MAX_DISPATCH_PASSES):
        result = services.alerts_dispatch(enqueue=True)
        events, notifications = events + result.events, notifications + result.notifications
        if not result.events:
            break
    services.storm_summaries_write(enqueue=True)
    lost = services.notifications_due(stale_seconds=REQUEUE_AFTER_SECONDS)
    notifications_enqueue(lost)
    return f"{events} events, {notifications} notifications, {len(lost)} re-queued"


@shared_task(name="apps.alerts.tasks.system_check_task", acks_late=True, ignore_result=True)
def system_check_task() -> str:
    """Beat, every minute: check the system; writes system.unhealthy / system.recovered on transitions."""
    from apps.alerts.system_check import system_check_run

    result = system_check_run()
    return result.event or ("healthy" if result.healthy else "still unhealthy")


@shared_task(name="apps.alerts.tasks.digests_send_task", acks_late=True, ignore_result=True)
def digests_send_task() -> str:
    """Beat, every 10 minutes on queue ``digest``: send the digests that are due (each once per period)."""
    from apps.alerts.digests import digests_send_due

    outcomes = digests_send_due()
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "no subscriptions"


@shared_task(name="apps.alerts.tasks.watch_batches_flush_task", acks_late=True, ignore_result=True)
def watch_batches_flush_task() -> str:
    """Beat, every minute: each batching channel whose window is over gets one notification listing its matches."""
    from apps.alerts.batching import batches_flush

    return str(batches_flush(enqueue=True))
