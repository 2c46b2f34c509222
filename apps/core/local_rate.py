"""A rate limit counted in this process's memory: the fallback for a limit that must hold without Redis.

Fixed windows like django-ratelimit's. The table is bounded: when full, the oldest windows are dropped, so a
flood of distinct keys costs memory once and then only forgets the stalest counts.
"""

from __future__ import annotations

import re
import threading
import time

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """``"10/m"`` -> (10, 60); ``"100/5m"`` -> (100, 300). The settings reader has validated the form."""
    match = _RATE.match(rate)
    if not match:
        raise ValueError(f"not a rate like 10/m or 100/5m: {rate!r}")
    return int(match.group(1)), int(match.group(2) or 1) * _UNIT_SECONDS[match.group(3)]


class LocalRateLimiter:
    """Counts hits per key and window in memory; thread-safe (gthread workers share one per process)."""

    def __init__(self, max_keys: int = 10_000) -> None:
        self._max_keys = max_keys
        self._windows: dict[str, tuple[float, int]] = {}  # key -> (window start, hits); insertion-ordered
        self._lock = threading.Lock()

    def hit(self, key: str, *, rate: str, now: float | None = None) -> bool:
        """Count one hit for ``key``; True when it is over ``rate`` in the current window."""
        limit, period = rate_parse(rate)
        now = time.monotonic() if now is None else now
        with self._lock:
            started, hits = self._windows.pop(key, (now, 0))
            if now - started >= period:
                started, hits = now, 0
            self._windows[key] = (started, hits + 1)
            while len(self._windows) > self._max_keys:
                self._windows.pop(next(iter(self._windows)))
            return hits + 1 > limit
