"""Where the shared evaluation data lives: ``../shared/data`` beside the repository (``TRENDSITE_SHARED_DATA``
overrides it, e.g. for a worktree elsewhere). Tests that need a file skip, saying which, when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TRENDSITE_SHARED_DATA") or REPOSITORY.parent / "shared" / "data")
UCI_DEV = SHARED_DATA / "uci-news-stories-dev.csv"


def shared_file(name: str) -> Path:
    """The shared data file ``name``; skips the calling test, with the path it looked at, when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"shared data {path} is absent (set TRENDSITE_SHARED_DATA to its directory)")
    return path


def needs_shared_file(name: str) -> pytest.MarkDecorator:
    """A skip marker for tests that read the shared data file ``name``."""
    path = SHARED_DATA / name
    return pytest.mark.skipif(
        not path.exists(), reason=f"shared data {path} is absent (set TRENDSITE_SHARED_DATA to its directory)"
    )
