"""Fixtures for the pipeline tests: a source and a compact way to create raw items with the ORM."""

from __future__ import annotations

import csv
import itertools
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from apps.plugins.models import Source
from apps.trends.models import Item
from tests.shared_data import UCI_DEV, shared_file

T0 = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
_ids = itertools.count(1)


@pytest.fixture
def source(db) -> Source:
    return Source.objects.create(name="wire", kind="file")


@pytest.fixture
def make_item(source):
    """make_item(title, minutes=0, **fields): an unprocessed item published ``minutes`` after T0."""

    def make(title: str, minutes: float | None = 0, **fields) -> Item:
        fields.setdefault("source", source)
        fields.setdefault("external_id", f"x{next(_ids)}")
        published = T0 + timedelta(minutes=minutes) if minutes is not None else None
        return Item.objects.create(title=title, published_at=published, **fields)

    return make


def uci_rows(limit: int | None = None) -> list[dict[str, str]]:
    """The labelled UCI rows, shuffled with numpy seed 0 (the benchmark protocol); skips when absent."""
    with shared_file(UCI_DEV.name).open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    order = np.random.default_rng(0).permutation(len(rows))
    shuffled = [rows[i] for i in order]
    return shuffled[:limit] if limit else shuffled


def unit_vector(direction: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """A unit vector near axis ``direction``; ``noise`` moves it off the axis (cosine ≈ 1/sqrt(1+noise²·384))."""
    vector = np.zeros(384, dtype=np.float32)
    vector[direction] = 1.0
    if noise:
        vector += np.random.default_rng(seed).normal(scale=noise, size=384).astype(np.float32)
    return vector / np.linalg.norm(vector)
