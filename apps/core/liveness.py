"""Is the worker alive, is beat alive: read from what each leaves behind, without asking them.

Beat sends ``heartbeat_task`` every minute and the worker runs it, stamping the cache; the
DatabaseScheduler stamps ``PeriodicTask.last_run_at`` whenever it sends a task. So a stale worker stamp
with a fresh beat stamp means the worker is down (or stuck); both stale means beat is down.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

logger = logging.getLogger(__name__)

WORKER_HEARTBEAT_KEY = "liveness:worker"
HEARTBEAT_SECONDS = 60
# Two missed beats before anyone says "down": one late beat under load is normal.
STALE_AFTER_SECONDS = 3 * HEARTBEAT_SECONDS


def worker_heartbeat_record() -> None:
    """Stamp 'a worker ran a task now' (called by the heartbeat task, on the worker)."""
    cache.set(WORKER_HEARTBEAT_KEY, timezone.now().isoformat(), timeout=24 * 3600)


def worker_last_seen() -> datetime | None:
    """When a worker last ran the heartbeat task, or None if no stamp survives in the cache (or the cache is
    down: the readiness checks report that; here it only means nobody can vouch for the worker)."""
    try:
        value = cache.get(WORKER_HEARTBEAT_KEY)
    except Exception:
        logger.warning("liveness: cache unreachable, worker heartbeat unknown", exc_info=True)
        return None
    return datetime.fromisoformat(value) if value else None


def beat_last_seen() -> datetime | None:
    """When beat last sent a task: django-celery-beat's own record, or the worker's last heartbeat.

    Only beat sends the heartbeat task, so a stamp from it is beat's too; and the DatabaseScheduler writes
    ``last_run_at`` back only every few minutes (``beat_sync_every``), which alone read a live beat as down.
    """
    from django_celery_beat.models import PeriodicTask

    seen = [PeriodicTask.objects.aggregate(last=Max("last_run_at"))["last"], worker_last_seen()]
    return max((s for s in seen if s is not None), default=None)


def is_fresh(seen: datetime | None, *, now: datetime | None = None) -> bool:
    """True when ``seen`` is recent enough to call its process alive."""
    if seen is None:
        return False
    return ((now or timezone.now()) - seen).total_seconds() <= STALE_AFTER_SECONDS
