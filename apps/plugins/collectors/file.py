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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from apps.core.config_spec import ConfigField, value_shown
from apps.core.http import FetchError, http_fetch
from apps.plugins.collectors.base import Collector, CollectOutcome, epoch_to_datetime, iso_to_datetime
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


BINARY_PROBE_BYTES = 8192
ERRORS_KEPT = 20  # bad lines quoted by location; all of them are counted


@dataclass
class FileReport:
    """What reading one file found: records read, bad lines (counted, the first ones quoted by location)."""

    name: str
    records: int = 0
    bad: int = 0
    errors: list[str] = field(default_factory=list)

    def problem(self, line: int, column: int, message: str) -> None:
        self.bad += 1
        if len(self.errors) < ERRORS_KEPT:
            self.errors.append(f"{self.name}, line {line}, column {column}: {message}")

    def summary(self) -> list[str]:
        """The quoted errors, plus a line for those not quoted."""
        more = self.bad - len(self.errors)
        return self.errors + ([f"{self.name}: {more:,} more bad line(s) not listed"] if more > 0 else [])


def _text_lines(stream: IO[bytes], *, encoding: str, report: FileReport) -> Iterator[tuple[int, str]]:
    """(line number, text) for every line that decodes; a line that does not is reported by byte column."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):  # lines are not split at b"\n" bytes
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        yield from enumerate(text, start=1)
        return
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8) and encoding.lower().replace("_", "-") in UTF8_NAMES:
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield number, raw.decode(encoding)
        except UnicodeDecodeError as exc:
            report.problem(number, exc.start + 1, f"not valid {encoding} (byte 0x{raw[exc.start]:02x}); line skipped")


UTF8_NAMES = ("utf-8", "utf8", "utf-8-sig")


def file_text_check(stream: IO[bytes], *, name: str, encoding: str = "utf-8") -> None:
    """FetchError (permanent) for a file that is empty or binary; the stream is left where it was."""
    position = stream.tell()
    head = stream.read(BINARY_PROBE_BYTES)
    stream.seek(position)
    if not head.strip():
        raise FetchError(f"{name} is empty; expected CSV or JSONL", permanent=True)
    nul = head.find(b"\x00")
    if nul >= 0 and not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        raise FetchError(
            f"{name} looks binary (a NUL byte at offset {nul:,}); expected CSV or JSONL text", permanent=True
        )


def _csv_records(lines: Iterator[tuple[int, str]], *, mapping: dict[str, Any], report: FileReport) -> Iterator[dict]:
    numbers = {"line": 0}

    def _texts() -> Iterator[str]:
        for numbers["line"], text in lines:
            yield text

    reader = csv.reader(_texts())
    header: list[str] | None = None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            report.problem(numbers["line"], 1, f"unreadable CSV ({exc}); line skipped")
            continue
        if header is None:
            header = [column.strip() for column in row]
            _header_check(header, mapping=mapping, name=report.name)
            continue
        if row:
            yield dict(zip(header, row, strict=False))


def _header_check(header: list[str], *, mapping: dict[str, Any], name: str) -> None:
    """FetchError when the header lacks the columns that give each item its id and title."""
    wanted = [mapping[key] for key in ("external_id", "title") if mapping.get(key)]
    missing = [column for column in wanted if column not in header]
    if missing:
        shown = ", ".join(repr(column) for column in header[:12]) + (" ..." if len(header) > 12 else "")
        raise FetchError(
            f"{name}, line 1: the header has no column {' or '.join(map(repr, missing))} named by the mapping "
            f"(its columns: {shown or 'none'})",
            permanent=True,
        )


def _jsonl_records(lines: Iterator[tuple[int, str]], *, report: FileReport) -> Iterator[dict]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            report.problem(number, exc.colno, f"malformed JSON ({exc.msg}); line skipped")
            continue
        except RecursionError:
            report.problem(number, 1, "JSON nested too deeply; line skipped")
            continue
        if not isinstance(record, dict):
            report.problem(number, 1, f"not a JSON object (got {type(record).__name__}); line skipped")
            continue
        yield record


def file_drafts(stream: IO[bytes], *, config: dict[str, Any], report: FileReport | None = None) -> Iterator[ItemDraft]:
    """Drafts from a CSV/JSONL byte stream. Lines that cannot be read are reported by line and column in
    ``report`` and skipped; a file that is empty, binary or lacks the mapped columns is a FetchError."""
    options = file_settings(config)
    report = report or FileReport(name="file")
    mapping = options["mapping"]
    timestamp_format = options.get("timestamp_format", "iso")
    encoding = options.get("encoding", "utf-8")
    file_text_check(stream, name=report.name, encoding=encoding)
    lines = _text_lines(stream, encoding=encoding, report=report)
    if options.get("format", "csv") == "csv":
        records = _csv_records(lines, mapping=mapping, report=report)
    else:
        records = _jsonl_records(lines, report=report)
    for record in records:
        report.records += 1
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
            report = FileReport(name=self.config["url"][:200])
            drafts = list(file_drafts(io.BytesIO(response.content), config=self.config, report=report))
            return self._outcome(drafts, report, etag=response.etag, last_modified=response.last_modified)
        path = import_path_allowed(self.config["path"])
        report = FileReport(name=path.name)
        try:
            with path.open("rb") as stream:
                drafts = list(file_drafts(stream, config=self.config, report=report))
        except OSError as exc:
            raise FetchError(f"cannot read {path}: {exc.strerror}", permanent=True) from None
        if self.config["rebase_to_now"]:
            drafts_rebase_to_now(drafts)
        return self._outcome(drafts, report)

    @staticmethod
    def _outcome(drafts: list[ItemDraft], report: FileReport, **validators: str) -> CollectOutcome:
        if not drafts and report.bad:
            raise FetchError(f"no readable record in {report.name}: " + "; ".join(report.errors[:3]), permanent=True)
        details = file_report_details(report)
        return CollectOutcome(
            drafts=drafts, errors=report.summary(), details=details, unreadable=report.bad, **validators
        )


def file_report_details(report: FileReport) -> dict[str, Any]:
    """A file's reading report in the shape of a run's ``details``."""
    row = {"status": "ok" if report.records else "failed", "fetched": report.records, "bad_lines": report.bad}
    return {"files": {report.name: {**row, "error": "; ".join(report.errors[:3])[:300]} if report.bad else row}}


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
