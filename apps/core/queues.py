"""What waits in the broker: the length of every Celery queue and its oldest waiting task.

With Redis, kombu keeps a queue as lists (one per priority step: ``name``, ``name\\x06\\x163`` ...) that
producers LPUSH and workers RPOP, so the oldest message is at the tail. Its ``sent_at`` header is stamped by
trendsite.celery on publish (Celery's own headers carry no publish time). Other brokers report lengths only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings

BROKER_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class WaitingTask:
    task_id: str
    name: str
    sent_at: datetime | None
    eta: datetime | None


@dataclass(frozen=True)
class QueueState:
    name: str
    length: int
    oldest: WaitingTask | None = None


@dataclass(frozen=True)
class BrokerState:
    queues: list[QueueState] = field(default_factory=list)
    error: str = ""  # the broker could not be reached: why

    @property
    def total(self) -> int:
        return sum(queue.length for queue in self.queues)


def _time(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _waiting_task(raw: bytes | None) -> WaitingTask | None:
    if not raw:
        return None
    try:
        headers = json.loads(raw).get("headers") or {}
    except (ValueError, AttributeError):
        return None
    return WaitingTask(
        task_id=str(headers.get("id", "")),
        name=str(headers.get("task", "")),
        sent_at=_time(headers.get("sent_at")),
        eta=_time(headers.get("eta")),
    )


def _redis_queue(channel, name: str) -> QueueState:
    keys = [channel._q_for_pri(name, step) for step in channel.priority_steps]
    client = channel.client
    with client.pipeline() as pipe:
        for key in keys:
            pipe.llen(key)
            pipe.lindex(key, -1)
        replies = pipe.execute()
    lengths, tails = replies[0::2], replies[1::2]
    oldest = [task for task in map(_waiting_task, tails) if task is not None]
    dated = [task for task in oldest if task.sent_at is not None]
    # The tail of each priority list is that list's oldest; across lists the earliest stamp wins.
    first = min(dated, key=lambda task: task.sent_at) if dated else (oldest[0] if oldest else None)
    return QueueState(name=name, length=sum(lengths), oldest=first)


def queues_inspect(*, broker_url: str | None = None, timeout: float = BROKER_TIMEOUT_SECONDS) -> BrokerState:
    """Length and oldest waiting task of every queue in ``CELERY_QUEUES``; an unreachable broker gives a
    state with ``error`` set instead of raising."""
    from trendsite.celery import app

    try:
        with app.connection_for_read(broker_url) as conn:
            conn.ensure_connection(max_retries=0, timeout=timeout)
            channel = conn.default_channel
            if hasattr(channel, "priority_steps") and hasattr(channel, "client"):
                queues = [_redis_queue(channel, name) for name in settings.CELERY_QUEUES]
            else:
                queues = [
                    QueueState(name=name, length=channel.queue_declare(queue=name, passive=True).message_count)
                    for name in settings.CELERY_QUEUES
                ]
    except Exception as exc:  # noqa: BLE001 - any broker failure is reported, never raised into a page
        return BrokerState(error=f"{type(exc).__name__}: {exc}"[:300])
    return BrokerState(queues=queues)
