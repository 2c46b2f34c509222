"""CSV or JSONL files mapped column by column onto items; the ``uci`` preset reads the UCI News Aggregator CSV.

A ``file`` source reads a path inside TRENDSITE_IMPORT_DIRS or a URL through the outbound client; the
``import_items`` command streams any file its operator names through the same ``file_drafts``.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import (
    Collector,
    CollectOutcome,
    ConfigField,
    epoch_to_datetime,
    iso_to_datetime,
    value_shown,
)
from apps.trends.ingest import ItemDraft

DRAFT_FIELDS = ("external_id", "title", "url", "text", "author", "published_at", "language_hint")
PRESETS: dict[str, dict[str, Any]] = {
    # UCI News Aggregator: ID,TITLE,URL,PUBLISHER,CATEGORY,STORY,HOSTNAME,TIMESTAMP (milliseconds since epoch).
    "uci": {
        "format": "csv",
        "timestamp_format": "epoch_ms",
        "language_hint": "en",
        "mapping": {
            "external_id": "ID",
            "title": "TITLE",
            "url": "URL",
            "author": "PUBLISHER",
            "published_at": "TIMESTAMP",
            "metrics": ["CATEGORY", "STORY", "HOSTNAME", "PUBLISHER"],
        },
    },
}
csv.field_size_limit(1024 * 1024)


def file_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The config with its preset applied; explicit keys win over the preset's."""
    preset = PRESETS.get(config.get("preset") or "", {})
    merged = {**preset, **{k: v for k, v in config.items() if v not in ("", {}, None)}}
    merged["mapping"] = {**preset.get("mapping", {}), **(config.get("mapping") or {})}
    return merged


def _timestamp(value: Any, kind: str) -> Any:
    if kind == "epoch_ms":
        return epoch_to_datetime(value, milliseconds=True)
    if kind == "epoch_s":
        return epoch_to_datetime(value)
    return iso_to_datetime(value)


def _records(stream: IO[bytes], *, file_format: str, encoding: str) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    if file_format == "csv":
        yield from csv.DictReader(text)
        return
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            yield {"__error__": f"line {number}: malformed JSON"}
            continue
        yield record if isinstance(record, dict) else {"__error__": f"line {number}: not a JSON object"}


def file_drafts(stream: IO[bytes], *, config: dict[str, Any]) -> Iterator[ItemDraft]:
    """Drafts from a CSV/JSONL byte stream; a record that cannot be read becomes a draft ingest skips."""
    options = file_settings(config)
    mapping = options["mapping"]
    timestamp_format = options.get("timestamp_format", "iso")
    for record in _records(stream, file_format=options.get("format", "csv"), encoding=options.get("encoding", "utf-8")):
        if "__error__" in record:
            yield ItemDraft(external_id="", title="")
            continue
        values = {name: record.get(mapping[name]) for name in DRAFT_FIELDS if mapping.get(name)}
        values = {k: v if k == "published_at" or v is None else str(v) for k, v in values.items()}
        if "published_at" in values:
            values["published_at"] = _timestamp(values["published_at"], timestamp_format)
        values.setdefault("language_hint", options.get("language_hint", ""))
        metrics = {column.lower(): record.get(column) for column in mapping.get("metrics", []) if column in record}
        yield ItemDraft(**{k: v or ("" if k != "published_at" else None) for k, v in values.items()}, metrics=metrics)


def mapping_problems(mapping: dict[str, Any]) -> list[str]:
    """What is wrong with a column mapping (item field -> column name; ``metrics`` -> list of columns)."""
    unknown = [key for key in mapping if key not in (*DRAFT_FIELDS, "metrics")]
    if unknown:
        return [
            f"'mapping' has unknown item field {value_shown(unknown[0])} (known: {', '.join(DRAFT_FIELDS)}, metrics)"
        ]
    problems = []
    missing = [name for name in ("external_id", "title") if not mapping.get(name)]
    if missing:
        problems.append(f"'mapping' must name the column for {' and '.join(missing)} (or use a 'preset')")
    bad = [key for key in DRAFT_FIELDS if key in mapping and not isinstance(mapping[key], str)]
    if bad:
        problems.append(f"'mapping' of '{bad[0]}' must be a column name, got {value_shown(mapping[bad[0]])}")
    metrics = mapping.get("metrics", [])
    if not isinstance(metrics, list) or not all(isinstance(column, str) for column in metrics):
        problems.append(f"'mapping' of 'metrics' must be a list of column names, got {value_shown(metrics)}")
    return problems


def import_path_allowed(path: str) -> Path:
    """``path`` (relative ones from the project directory) resolved, if inside one of TRENDSITE_IMPORT_DIRS."""
    resolved = (Path(settings.BASE_DIR) / path).resolve()
    for root in settings.TRENDSITE_IMPORT_DIRS:
        if resolved.is_relative_to(Path(root).resolve()):
            return resolved
    raise FetchError(f"file {path} is outside TRENDSITE_IMPORT_DIRS; sources may only read files there", permanent=True)


class FileCollector(Collector):
    kind = "file"
    fields = (
        ConfigField("path", str, default="", help="a file inside TRENDSITE_IMPORT_DIRS"),
        ConfigField("url", str, default=""),
        ConfigField("format", str, default="", choices=("csv", "jsonl")),
        ConfigField("preset", str, default="", choices=tuple(PRESETS)),
        ConfigField("mapping", dict, default={}),
        ConfigField("timestamp_format", str, default="", choices=("iso", "epoch_s", "epoch_ms")),
        ConfigField("encoding", str, default="utf-8"),
        ConfigField("language_hint", str, default=""),
        ConfigField("rebase_to_now", bool, default=False, help="shift timestamps so the newest is now (demos)"),
    )

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        problems = []
        if bool(config["path"]) == bool(config["url"]):
            problems.append("give exactly one of 'path' or 'url'")
        if config["url"] and not config["url"].startswith(("http://", "https://")):
            problems.append(f"'url' must be an http(s) URL, got {config['url']!r}")
        try:
            codecs.lookup(config["encoding"])
        except LookupError:
            problems.append(f"'encoding' {value_shown(config['encoding'])} is not an encoding Python knows")
        return problems + mapping_problems(file_settings(config)["mapping"])

    def collect(self) -> CollectOutcome:
        if self.config["url"]:
            response = http_fetch(self.config["url"], etag=self.source.etag, last_modified=self.source.last_modified)
            if response.not_modified:
                return CollectOutcome(not_modified=True)
            drafts = list(file_drafts(io.BytesIO(response.content), config=self.config))
            return CollectOutcome(drafts=drafts, etag=response.etag, last_modified=response.last_modified)
        path = import_path_allowed(self.config["path"])
        try:
            with path.open("rb") as stream:
                drafts = list(file_drafts(stream, config=self.config))
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}", permanent=True) from None
        if self.config["rebase_to_now"]:
            drafts_rebase_to_now(drafts)
        return CollectOutcome(drafts=drafts)


def drafts_rebase_to_now(drafts: list[ItemDraft]) -> None:
    """Shift every timestamp by one offset so the newest is now: a bundled history keeps its shape (some
    stories fresh, some fading) instead of arriving years old. Ingest keeps the first published_at it
    stored, so later collections do not move items again."""
    stamps = [d.published_at for d in drafts if d.published_at]
    if not stamps:
        return
    shift = timezone.now() - max(stamps)
    for draft in drafts:
        if draft.published_at:
            draft.published_at += shift
