"""Idempotent ingest of collected items: upsert on (source, external_id), never duplicate, never crash.

Collectors (in the plugins app) hand over ``ItemDraft`` objects; this module only needs the source's id, so
the trends app never imports plugins.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from apps.core.display import text_truncated
from apps.trends.metrics import metrics_numeric
from apps.trends.models import Item

TITLE_MAX_CHARS = 1000
TEXT_MAX_BYTES = 100 * 1024
URL_MAX_CHARS = 2048
EXTERNAL_ID_MAX_CHARS = 512
BATCH_SIZE = 1000

_INVISIBLE_BLOCKS = re.compile(r"<(script|style|template)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENTS = re.compile(r"<!--.*?-->", re.DOTALL)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.IGNORECASE)
# A tag never holds "<": stopping there keeps a text full of unclosed "<" linear instead of quadratic.
_TAGS = re.compile(r"<[^<>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
# Control characters PostgreSQL cannot store (NUL) or nobody can read; tabs, newlines, \v and \f become spaces.
_UNSTORABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

logger = logging.getLogger(__name__)


@dataclass
class ItemDraft:
    """One item as a collector found it, before ingest cleans and stores it."""

    external_id: str
    title: str
    url: str = ""
    text: str = ""
    author: str = ""
    published_at: datetime | None = None
    language_hint: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    new: int = 0
    updated: int = 0
    skipped: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    unparsed_metrics: dict[str, int] = field(default_factory=dict)  # count key -> items where it stayed text

    @property
    def stored(self) -> int:
        return self.new + self.updated

    def add(self, other: IngestResult) -> None:
        """Fold another chunk's result into this running total."""
        self.new += other.new
        self.updated += other.updated
        self.skipped += other.skipped
        for reason, count in other.skip_reasons.items():
            self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + count
        for key, count in other.unparsed_metrics.items():
            self.unparsed_metrics[key] = self.unparsed_metrics.get(key, 0) + count


def text_plain(value: str | None, *, multiline: bool = True) -> str:
    """Markup stripped, entities decoded, then ``text_tidy``.

    Applied once, where outside markup comes in (ingest). What it returns is text: ``&lt;script&gt;`` has become
    the characters ``<script>``, which must never be stripped again (templates escape it on output).
    """
    if not value:
        return ""
    if "<" in value:
        value = _INVISIBLE_BLOCKS.sub(" ", value)
        value = _COMMENTS.sub(" ", value)
        value = _BREAKS.sub("\n", value)
        value = _TAGS.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    return text_tidy(value, multiline=multiline)


def text_tidy(value: str | None, *, multiline: bool = True) -> str:
    """Plain text with unstorable characters removed and whitespace tidied; markup-like text is left as is.

    The pipeline's normalise stage uses this on stored items, whose text ingest already made plain.
    """
    if not value:
        return ""
    value = _UNSTORABLE.sub("", value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates, from bytes decoded with surrogateescape
        value = value.encode("utf-8", "replace").decode("utf-8")
    value = _SPACES.sub(" ", value)
    value = _BLANK_LINES.sub("\n" if multiline else " ", value)
    return value.strip()


def _truncate_bytes(value: str, limit: int) -> str:
    if len(value) <= limit // 4:  # at most 4 bytes per character: surely under the limit
        return value
    encoded = value.encode("utf-8")
    if len(encoded) <= limit:
        return value
    return encoded[:limit].decode("utf-8", errors="ignore")


def _draft_clean(draft: ItemDraft) -> tuple[dict[str, Any] | None, str]:
    """The row to store, or None and the reason it was skipped."""
    external_id = str(draft.external_id or "").strip()
    if not external_id:
        return None, "no external id"
    if len(external_id) > EXTERNAL_ID_MAX_CHARS:
        return None, "external id too long"
    title = text_plain(draft.title, multiline=False)
    if not title:
        return None, "no title"
    title = text_truncated(title, length=TITLE_MAX_CHARS)
    url = (draft.url or "").strip()
    if len(url) > URL_MAX_CHARS or not url.startswith(("http://", "https://")):
        url = ""  # a cut URL points somewhere else; better none
    published_at = draft.published_at
    if published_at is not None and timezone.is_naive(published_at):
        published_at = published_at.replace(tzinfo=UTC)
    return {
        "external_id": external_id,
        "title": title,
        "url": url,
        "text": _truncate_bytes(text_plain(draft.text), TEXT_MAX_BYTES),
        "author": text_plain(draft.author, multiline=False)[:255],
        "published_at": published_at,
        "language_hint": (draft.language_hint or "").strip()[:16],
        "metrics": draft.metrics or {},
    }, ""


def items_ingest(*, source_id: int, drafts: Iterable[ItemDraft]) -> IngestResult:
    """Store ``drafts`` for the source: new items are inserted, known ones get fresh metrics and updated_at.

    Skipped drafts (no id, no title) are counted by reason. Titles over 1,000 characters and texts over
    100 KB are truncated. A draft repeated within the same call is stored once (the last one wins).
    Runs in one transaction, in batches of ``BATCH_SIZE`` rows per statement; new and updated are told
    apart by the database (``xmax = 0`` marks a row the statement inserted).
    """
    result = IngestResult()
    reasons: Counter[str] = Counter()
    unparsed_metrics: Counter[str] = Counter()
    rows: dict[str, dict[str, Any]] = {}
    for draft in drafts:
        row, reason = _draft_clean(draft)
        if row is None:
            reasons[reason] += 1
            continue
        row["metrics"], unparsed = metrics_numeric(row["metrics"])
        unparsed_metrics.update(unparsed)
        if row["external_id"] in rows:
            reasons["repeated in the same payload"] += 1
        rows[row["external_id"]] = row
    result.skipped = sum(reasons.values())
    result.skip_reasons = dict(reasons)
    result.unparsed_metrics = dict(unparsed_metrics)
    if not rows:
        return result
    now = timezone.now()
    values = list(rows.values())
    sql, constants = _upsert_statement()
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(values), BATCH_SIZE):
            batch = values[start : start + BATCH_SIZE]
            arrays = [
                [json.dumps(row[name], default=str) if name == "metrics" else row[name] for row in batch]
                for name in _VARYING
            ]
            params = [
                source_id if name == "source" else now if name in ("collected_at", "updated_at") else value
                for name, value in constants
            ]
            cursor.execute(sql, [*params, *arrays])
            inserted = sum(1 for (was_inserted,) in cursor.fetchall() if was_inserted)
            result.new += inserted
            result.updated += len(batch) - inserted
        if result.new:
            transaction.on_commit(_embed_dispatch)
    return result


def _embed_dispatch() -> None:
    """New items go to the embed workers at once; a broker that is down only delays them to the next run."""
    from apps.trends.tasks import pipeline_embed_dispatch_task

    try:
        pipeline_embed_dispatch_task.delay()
    except Exception:  # noqa: BLE001 - the items are stored; the pipeline embeds what no worker did
        logger.warning("embed dispatch not sent (broker unavailable): the pipeline run will embed these items")


_VARYING = ("external_id", "title", "url", "text", "author", "published_at", "language_hint", "metrics")


@lru_cache(maxsize=1)
def _upsert_statement() -> tuple[str, list[tuple[str, Any]]]:
    """One INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT statement per batch, and its constants.

    Arrays cost eight parameters per batch where bulk_create costs one per cell; at 10,000 items that is
    the difference between the database and Python's SQL assembly being the bottleneck. Columns come from
    the model, so a field added later with a default is filled with that default.
    """
    fields = [f for f in Item._meta.concrete_fields if not f.primary_key and not f.generated]
    columns, selects, constants = [], [], []
    for model_field in fields:
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name in _VARYING:
            selects.append(f"r.{model_field.name}::jsonb" if model_field.name == "metrics" else f"r.{model_field.name}")
        else:
            selects.append(f"%s::{model_field.db_type(connection)}")
            per_call = model_field.name in ("source", "collected_at", "updated_at")  # filled in by items_ingest
            default = None if per_call else model_field.get_default()
            constants.append((model_field.name, model_field.get_db_prep_save(default, connection)))
    types = {name: Item._meta.get_field(name).db_type(connection) for name in _VARYING}
    types["metrics"] = "text"
    unnest = ", ".join(f"%s::{types[name]}[]" for name in _VARYING)
    table = connection.ops.quote_name(Item._meta.db_table)
    source_column = Item._meta.get_field("source").column
    external_id_column = Item._meta.get_field("external_id").column
    sql = f"""
        INSERT INTO {table} ({", ".join(columns)})
        SELECT {", ".join(selects)} FROM unnest({unnest}) AS r({", ".join(_VARYING)})
        ON CONFLICT ({source_column}, {external_id_column})
        DO UPDATE SET metrics = EXCLUDED.metrics, updated_at = EXCLUDED.updated_at
        RETURNING (xmax = 0)
    """  # noqa: S608 - identifiers from the model, values are parameters
    return sql, constants
