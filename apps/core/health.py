"""Readiness checks: database, cache and broker, each with a short timeout and its latency."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""


def _check_database(timeout: float) -> None:
    # SET LOCAL lasts until the end of the transaction, so it needs one: outside a transaction it does nothing.
    # Reading django_migrations proves the schema is there, and a table lock on it counts against the timeout.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = %s", [max(1, int(timeout * 1000))])
        cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")


def _check_cache(timeout: float) -> None:
    client = cache.client.get_client(write=True)  # django-redis: the raw redis-py client
    client.ping()


def _check_broker(timeout: float) -> None:
    from trendsite.celery import app

    # A connection from Celery's producer pool, kept open between probes: a readiness probe every few
    # seconds must not open (and leave in TIME_WAIT) a broker connection each time.
    conn = app.pool.acquire(block=True, timeout=timeout)
    try:
        conn.ensure_connection(max_retries=0, timeout=timeout)
        if conn.transport.driver_type == "redis":
            conn.default_channel.client.ping()  # a pooled connection may be stale: ask the broker itself
    except Exception:
        conn.collect()  # drop the broken connection; the pool connects afresh next time
        raise
    finally:
        conn.release()


CHECKS: dict[str, Callable[[float], None]] = {
    "database": _check_database,
    "cache": _check_cache,
    "broker": _check_broker,
}


def system_check_readiness(*, timeout: float | None = None) -> list[CheckResult]:
    """Run every readiness check; a failing check reports its error instead of raising."""
    timeout = settings.READYZ_TIMEOUT if timeout is None else timeout
    results = []
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            check(timeout)
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported with its message
            error = f"{type(exc).__name__}: {exc}"[:300]
            results.append(CheckResult(name, False, (time.perf_counter() - started) * 1000, error))
        else:
            results.append(CheckResult(name, True, (time.perf_counter() - started) * 1000))
    return results
