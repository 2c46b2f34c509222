"""Readiness checks: database, cache and broker, each ending within READYZ_TIMEOUT whatever the peer does.

A peer can hang rather than fail: a stopped (SIGSTOPped) Redis still has its listening socket, so the kernel
accepts connections and nothing ever answers. So each check runs in a small thread pool of its own and the
caller waits at most the timeout for it; what has not answered by then is reported "timed out". Checks are
single-flight and bounded: while a check is running, a probe that arrives joins it instead of starting
another, and only one probe per process waits for it; the others answer at once with what is known (a
check still running counts as not ready). However many probes pile up, at most one thread per check is
busy and at most one web thread waits, for no longer than the timeout: liveness and the site keep answering.
The Redis clients used here carry socket timeouts too, so a hung check's thread ends soon after.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import redis
from django.conf import settings
from django.db import close_old_connections, connection, transaction

# The cache must accept a write, not only answer a ping: a full Redis (maxmemory, noeviction) answers
# PING and refuses SET, which silently switches off every limit counted in it.
CACHE_PROBE_KEY = "trendsite:readyz:probe"
CACHE_PROBE_TTL_SECONDS = 30


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    latency_ms: float
    error: str = ""


@lru_cache(maxsize=8)
def _redis_client(url: str, timeout: float) -> redis.Redis:
    """One client (and connection pool) per URL for probes: a probe every few seconds must not open, and
    leave in TIME_WAIT, a connection each time."""
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=0, retry_on_timeout=False
    )


def _check_database(timeout: float) -> None:
    close_old_connections()  # this pool thread serves no requests: drop a connection broken since last time
    try:
        # SET LOCAL lasts until the end of the transaction, so it needs one: outside a transaction it does
        # nothing. Reading django_migrations proves the schema is there; a lock on it counts against the timeout.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [max(1, int(timeout * 1000))])
            cursor.execute("SELECT 1 FROM django_migrations LIMIT 1")
    finally:
        # Closed after each probe: a session idling in a pool thread would outlive its database (and block
        # DROP DATABASE in the test suite), and one connect per probe is cheap next to the probe interval.
        connection.close()


def _cache_url() -> str:
    location = settings.CACHES["default"]["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location


def _check_cache(timeout: float) -> None:
    client = _redis_client(_cache_url(), timeout)
    token = f"{time.time_ns()}"
    client.set(CACHE_PROBE_KEY, token, ex=CACHE_PROBE_TTL_SECONDS)
    if client.get(CACHE_PROBE_KEY) != token.encode():
        raise RuntimeError("the cache did not keep a value it accepted")


def _check_broker(timeout: float) -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://", "unix://")):
        _redis_client(url, timeout).ping()
        return
    from trendsite.celery import app

    # Other brokers (RabbitMQ): a connection from Celery's producer pool, kept open between probes.
    conn = app.pool.acquire(block=True, timeout=timeout)
    try:
        conn.ensure_connection(max_retries=0, timeout=timeout)
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


def _timed(check: Callable[[float], None], timeout: float) -> float:
    started = time.perf_counter()
    check(timeout)
    return (time.perf_counter() - started) * 1000


_pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
_in_flight: dict[str, tuple[float, Future[float]]] = {}  # check name -> (started, its run)
_in_flight_guard = threading.Lock()
_waiting = threading.BoundedSemaphore(1)  # probes of this process allowed to wait for a running check


def _join_or_start(name: str, check: Callable[[float], None], timeout: float) -> tuple[float, Future[float]]:
    """The running check ``name`` (started by an earlier probe), or a new run of it."""
    with _in_flight_guard:
        running = _in_flight.get(name)
        if running is not None and not running[1].done():
            return running
        started = time.perf_counter()
        future = _pool.submit(_timed, check, timeout)
        _in_flight[name] = (started, future)
        return started, future


def _result(name: str, started: float, future: Future[float], timeout: float, *, waited: bool) -> CheckResult:
    elapsed_ms = (time.perf_counter() - started) * 1000
    if not future.done():
        if waited:
            return CheckResult(name, False, elapsed_ms, f"timed out: no answer within {timeout:g}s")
        return CheckResult(name, False, elapsed_ms, "still running; another probe is waiting for it")
    exc = future.exception()
    if exc is not None:
        return CheckResult(name, False, elapsed_ms, f"{type(exc).__name__}: {exc}"[:300])
    return CheckResult(name, True, future.result())


def system_check_readiness(*, timeout: float | None = None) -> list[CheckResult]:
    """Run every readiness check (or join the run in progress) and return within ``timeout`` seconds
    (``READYZ_TIMEOUT``); a failing or unanswered check reports its error instead of raising."""
    timeout = settings.READYZ_TIMEOUT if timeout is None else timeout
    deadline = time.perf_counter() + timeout
    runs = {name: _join_or_start(name, check, timeout) for name, check in CHECKS.items()}
    waited = _waiting.acquire(blocking=False)
    try:
        if waited:
            for _started, future in runs.values():
                with contextlib.suppress(Exception):  # its outcome is read below
                    future.exception(timeout=max(deadline - time.perf_counter(), 0))
        return [_result(name, started, future, timeout, waited=waited) for name, (started, future) in runs.items()]
    finally:
        if waited:
            _waiting.release()
