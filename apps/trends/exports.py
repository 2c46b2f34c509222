"""Rows for the item and trend exports (CSV or JSON lines), streamed so a large table never sits in memory."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from apps.trends.models import Item, Trend

ITEM_COLUMNS = ["external_id", "source", "title", "topic_id", "trend_id", "category", "language", "duplicate_of"]
TREND_COLUMNS = [
    "trend_id",
    "topic_id",
    "title",
    "state",
    "score",
    "velocity",
    "item_count",
    "source_count",
    "category",
    "first_detected_at",
    "state_changed_at",
]
FORMATS = ("csv", "jsonl")


def items_export_rows(*, source: str | None = None) -> Iterator[dict[str, Any]]:
    """One row per item in stream order; ``duplicate_of`` is the original's external id."""
    queryset = Item.objects.all()
    if source:
        queryset = queryset.filter(source__name=source)
    rows = queryset.order_by("published_at", "id").values_list(
        "external_id",
        "source__name",
        "title",
        "topic_id",
        "topic__trend__id",
        "category__name",
        "language",
        "duplicate_of__external_id",
    )
    for values in rows.iterator(chunk_size=2000):
        yield dict(zip(ITEM_COLUMNS, values, strict=True))


def trends_export_rows() -> Iterator[dict[str, Any]]:
    """One row per trend, highest score first."""
    rows = Trend.objects.order_by("-score", "id").values_list(
        "id",
        "topic_id",
        "title",
        "state",
        "score",
        "velocity",
        "topic__item_count",
        "topic__source_count",
        "category__name",
        "first_detected_at",
        "state_changed_at",
    )
    for values in rows.iterator(chunk_size=2000):
        row = dict(zip(TREND_COLUMNS, values, strict=True))
        row["first_detected_at"] = row["first_detected_at"].isoformat()
        row["state_changed_at"] = row["state_changed_at"].isoformat()
        yield row


def rows_write(rows: Iterable[dict[str, Any]], *, columns: list[str], fmt: str, stream: IO[str]) -> int:
    """Write rows as CSV (with a header) or JSON lines; returns how many were written."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}: choose csv or jsonl.")
    count = 0
    writer = csv.DictWriter(stream, fieldnames=columns) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    for row in rows:
        if writer is not None:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        else:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
