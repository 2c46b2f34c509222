"""One PostgreSQL advisory-lock helper for every "only one at a time" in trendsite (pipeline, collect, checks).

Session-level locks in the two-int form: the namespace is a CRC of the lock's name, the second int a key
within it (a source id, or 0). A session lock outlives transactions, so a pipeline run holds it across its
many commits, and PostgreSQL drops it when the holder's connection ends: a killed worker frees its lock at
once. Session locks are re-entrant on one connection, which would let one process take its own lock twice;
a process-wide set of held locks makes a second taker in the same process see "busy" too.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)

_held_here: set[tuple[int, int]] = set()
_held_here_guard = threading.Lock()


def advisory_lock_ids(name: str, key: int = 0) -> tuple[int, int]:
    """The (namespace, key) pair PostgreSQL sees for lock ``name``/``key`` (both int4)."""
    namespace = zlib.crc32(f"trendsite.{name}".encode()) - 2**31
    # The two-int form takes int4; ids past that share a lock, which only serialises more than needed.
    return namespace, key % 2**31


def _try(ids: tuple[int, int]) -> bool:
    with _held_here_guard:
        if ids in _held_here:
            return False
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", list(ids))
            acquired = bool(cursor.fetchone()[0])
        if acquired:
            _held_here.add(ids)
        return acquired


def _release(ids: tuple[int, int]) -> None:
    with _held_here_guard:
        _held_here.discard(ids)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", list(ids))
        except DatabaseError:
            logger.warning("advisory lock %s: session lost, and the lock with it", ids, exc_info=True)


@contextmanager
def advisory_lock(name: str, key: int = 0, *, wait_seconds: float = 0.0) -> Iterator[bool]:
    """Yield whether this process now holds lock ``name``/``key``; never blocks past ``wait_seconds``.

    With the default 0 it is a pure try-lock: the caller skips its work (or says "busy") when it gets False.
    A short ``wait_seconds`` suits work that is quick and merely must not overlap (the system check). The
    lock is released when the block ends, or by PostgreSQL when the process dies.
    """
    ids = advisory_lock_ids(name, key)
    deadline = time.monotonic() + wait_seconds
    acquired = _try(ids)
    while not acquired and time.monotonic() < deadline:
        time.sleep(0.05)
        acquired = _try(ids)
    try:
        yield acquired
    finally:
        if acquired:
            _release(ids)
