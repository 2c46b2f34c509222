import json
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.progress import progress_bar, progress_show
from apps.plugins.collectors.file import PRESETS, FileCollector
from apps.plugins.models import CollectionRun, Source
from apps.plugins.services import source_file_import
from apps.trends.ingest import IngestResult

CHUNK = 2000
ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Import a CSV or JSONL file of items into a `file` source (created disabled if missing), recorded as a "
        "run; bad lines are reported by line and column and skipped; exits 1 when nothing could be stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the CSV or JSONL file")
        parser.add_argument("--source", required=True, help="source name")
        parser.add_argument("--format", choices=("csv", "jsonl"), help="default: from the file extension")
        parser.add_argument("--preset", choices=tuple(PRESETS), help="column mapping preset, e.g. uci")
        parser.add_argument("--mapping", default="", help='JSON column mapping, e.g. {"external_id": "id"}')

    def handle(self, *args, file, source, format, preset, mapping, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        config = self._config(path, source=source, format=format, preset=preset, mapping=mapping)
        target = Source.objects.filter(name=source).first()
        if target is not None and target.kind != Source.Kind.FILE:
            raise CommandError(
                f"Source '{source}' is a {target.kind} source; import into a file source (a new name creates one)."
            )
        created = target is None
        if created:
            target = Source.objects.create(name=source, kind=Source.Kind.FILE, config=config, enabled=False)
        size = path.stat().st_size
        run, total, report = source_file_import(
            source=target,
            path=path,
            config=config,
            chunk_size=CHUNK,
            progress=lambda done, totals: self._progress(done, size, totals),
        )
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        for line in report.summary()[: ERRORS_SHOWN + 1]:
            self.stderr.write(line)
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(total.skip_reasons.items()))
        self.stdout.write(
            f"Done! {'Created' if created else 'Into'} source '{target.name}': imported {total.new:,}, "
            f"updated {total.updated:,}, skipped {total.skipped:,}" + (f" ({reasons})" if reasons else "") + "."
        )
        if run.status == CollectionRun.Status.FAILED or not total.stored:
            raise CommandError(f"Nothing was imported from {path}: {run.error[:500] or 'no valid record'}")

    def _config(self, path: Path, *, source: str, format: str, preset: str, mapping: str) -> dict:
        try:
            column_mapping = json.loads(mapping or "{}")
        except (ValueError, RecursionError) as exc:
            raise CommandError(f'--mapping is not valid JSON ({exc}); e.g. \'{{"external_id": "id"}}\'') from None
        if not isinstance(column_mapping, dict):
            raise CommandError(f"--mapping must be a JSON object, got {type(column_mapping).__name__}")
        config = {"path": str(path.resolve()), "preset": preset or "", "mapping": column_mapping}
        config["format"] = format or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv")
        try:
            return FileCollector.config_validate(name=source, config=config)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None

    def _progress(self, done: int, size: int, total: IngestResult) -> None:
        line = f"{progress_bar(done, size)} {done * 100 // max(size, 1):3d}%  {total.stored + total.skipped:,} rows"
        if not progress_show(line):
            self.stderr.write(line)  # not a terminal: one line per chunk for the log
