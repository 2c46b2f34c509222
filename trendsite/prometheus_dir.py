"""The directory prometheus-client's multiprocess mode shares between a host's processes (PROMETHEUS_MULTIPROC_DIR).

Every gunicorn and Celery process writes its counters to ``<kind>_<pid>.db`` files there, and ``/metrics`` (or a
worker's own endpoint) adds them up. prometheus-client reads the variable once, when it is first imported, so
``multiproc_dir_configure`` runs at the top of the settings, before any app imports it.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_PID_FILE = re.compile(r"_(\d+)\.db$")
# Beside the embedded services' data (git-ignored); containers set the variable to an emptyDir / tmpfs.
DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".data" / "prometheus"


def multiproc_dir_configure(default: Path = DEFAULT_DIR) -> Path:
    """The directory from the environment, else ``default``; created, and exported for prometheus-client."""
    path = Path(os.environ.get(ENV) or default)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def multiproc_dir_clean() -> int:
    """Delete the files of processes that are gone; how many. Run when a gunicorn master or a Celery worker
    starts: files left by an earlier run (or a reused pid's) would otherwise be added to the new counters.
    Files of live processes stay, so a web and a worker sharing the directory on one host do not wipe each other."""
    path = os.environ.get(ENV)
    if not path or not os.path.isdir(path):
        return 0
    removed = 0
    for name in os.listdir(path):
        match = _PID_FILE.search(name)
        if match and not _alive(int(match.group(1))):
            # Two processes cleaning at once may race for the same file.
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(path, name))
                removed += 1
    return removed


def process_dead_mark(pid: int) -> None:
    """Tell prometheus-client a process exited (its live gauges stop counting)."""
    if os.environ.get(ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
