"""The periodic system check: database, cache, broker, worker heartbeat, beat, pipeline freshness.

It writes ``system.unhealthy`` when the system turns unhealthy (or what fails changes) and ``system.recovered``
when all is well again, never on every run: the last system event is the remembered state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.advisory_lock import advisory_lock
from apps.core.health import system_check_readiness
from apps.core.liveness import beat_last_seen, is_fresh, worker_last_seen
from apps.core.models import Event
from apps.core.services import event_emit
from apps.trends.models import PipelineRun

# Serialises concurrent checks so two workers cannot both write the same transition; a check that waits
# longer than this for another one skips writing (the next periodic check sees the state it left).
SYSTEM_CHECK_LOCK = "system-check"
_LOCK_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class SystemCheckResult:
    checks: dict[str, dict]
    event: str  # the kind written, or "" when nothing changed

    @property
    def healthy(self) -> bool:
        return all(check["ok"] for check in self.checks.values())


def _seen(name: str, seen: datetime | None, now: datetime) -> dict:
    if is_fresh(seen, now=now):
        return {"ok": True, "error": ""}
    return {"ok": False, "error": f"{name} last seen {seen:%Y-%m-%d %H:%M} UTC" if seen else f"{name} never seen"}


def _pipeline(now: datetime) -> dict:
    stale = timedelta(minutes=settings.SYSTEM_CHECK_PIPELINE_STALE_MINUTES)
    runs = PipelineRun.objects.filter(as_of__isnull=True)
    if not runs.exists():
        return {"ok": True, "error": ""}  # a fresh install has nothing to be late with
    last = runs.filter(status=PipelineRun.Status.SUCCESS).order_by("-started_at").first()
    if last and now - (last.finished_at or last.started_at) <= stale:
        return {"ok": True, "error": ""}
    when = f"since {(last.finished_at or last.started_at):%Y-%m-%d %H:%M} UTC" if last else "ever"
    return {"ok": False, "error": f"no successful pipeline run {when}"}


def system_checks(*, now: datetime | None = None) -> dict[str, dict]:
    """Every check by name: {"ok": bool, "error": str}."""
    now = now or timezone.now()
    checks = {r.name: {"ok": r.ok, "error": r.error} for r in system_check_readiness()}
    checks["worker"] = _seen("worker heartbeat", worker_last_seen(), now)
    checks["beat"] = _seen("beat", beat_last_seen(), now)
    checks["pipeline"] = _pipeline(now)
    return checks


def system_check_run(*, now: datetime | None = None) -> SystemCheckResult:
    """Run the checks and write an event on a transition (healthy <-> unhealthy, or a new set of failures)."""
    checks = system_checks(now=now)
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    with advisory_lock(SYSTEM_CHECK_LOCK, wait_seconds=_LOCK_WAIT_SECONDS) as acquired, transaction.atomic():
        if not acquired:
            return SystemCheckResult(checks=checks, event="")
        last = (
            Event.objects.filter(kind__in=[Event.Kind.SYSTEM_UNHEALTHY, Event.Kind.SYSTEM_RECOVERED])
            .order_by("-id")
            .first()
        )
        was_unhealthy = last is not None and last.kind == Event.Kind.SYSTEM_UNHEALTHY
        kind = ""
        if failed and (not was_unhealthy or last.payload.get("failed") != failed):
            kind = Event.Kind.SYSTEM_UNHEALTHY
        elif not failed and was_unhealthy:
            kind = Event.Kind.SYSTEM_RECOVERED
        if kind:
            event_emit(kind=kind, payload={"failed": failed, "checks": checks})
    return SystemCheckResult(checks=checks, event=kind)
