"""The progress bar that long-running commands draw on a terminal."""

from __future__ import annotations

import sys

WIDTH = 30


def progress_bar(done: int, total: int) -> str:
    """``[########......]`` for ``done`` of ``total`` (full when the total is unknown or zero)."""
    filled = min(WIDTH, int(WIDTH * done / total)) if total else WIDTH
    return f"[{'#' * filled}{'.' * (WIDTH - filled)}]"


def progress_show(line: str) -> bool:
    """Redraw ``line`` in place on a terminal; False (nothing drawn) when stderr is not one."""
    if not sys.stderr.isatty():
        return False
    sys.stderr.write(f"\r{line}")
    sys.stderr.flush()
    return True
