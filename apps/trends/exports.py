"""Rows for the item and trend exports (CSV or JSON lines), streamed so a large table never sits in memory.

CSV cells that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage return) are
written with a leading apostrophe (OWASP "CSV injection"); JSON lines carry the text unchanged.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from typing import IO, Any

from apps.trends.models import Item, Trend

ITEM_COLUMNS = [
    "external_id",
    "source",
    "title",
    "topic_id",
    "trend_id",
    "category",
    "language",
    "duplicate_of",
    "url",
    "published_at",
]
TREND_COLUMNS = [
    "trend_id",
    "topic_id",
    "title",
    "url",
    "published_at",
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
        "url",
        "published_at",
    )
    for values in rows.iterator(chunk_size=2000):
        row = dict(zip(ITEM_COLUMNS, values, strict=True))
        row["published_at"] = row["published_at"].isoformat() if row["published_at"] else None
        yield row


def trends_export_rows() -> Iterator[dict[str, Any]]:
    """One row per trend, highest score first; ``url`` and ``published_at`` are its representative item's."""
    rows = Trend.objects.order_by("-score", "id").values_list(
        "id",
        "topic_id",
        "title",
        "topic__representative_item__url",
        "topic__representative_item__published_at",
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
        row["published_at"] = row["published_at"].isoformat() if row["published_at"] else None
        row["first_detected_at"] = row["first_detected_at"].isoformat()
        row["state_changed_at"] = row["state_changed_at"].isoformat()
        yield row


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-like strings get a leading apostrophe; None is empty.
    Numbers stay numbers (a negative velocity is not a formula)."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


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
            writer.writerow({k: cell_safe(v) for k, v in row.items()})
        else:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def output_open(path: str) -> IO[str]:
    """``path`` opened for writing an export; ExportError saying why when it cannot be (no such directory,
    no permission, a directory)."""
    try:
        return open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        parent = os.path.dirname(os.path.abspath(path))
        hint = f" (the directory {parent} does not exist)" if not os.path.isdir(parent) else ""
        raise ExportError(f"cannot write {path}: {reason}{hint}") from None


class ExportError(Exception):
    """An export cannot be written where it was asked to go."""
