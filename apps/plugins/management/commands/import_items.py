import json
import sys
from itertools import islice
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.core.progress import progress_bar, progress_show
from apps.plugins.collectors.file import PRESETS, FileCollector, file_drafts
from apps.plugins.models import Source
from apps.trends.ingest import IngestResult, items_ingest

CHUNK = 2000


class Command(BaseCommand):
    help = "Import a CSV or JSONL file of items into a source (created as a disabled `file` source if missing)."

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
        try:
            column_mapping = json.loads(mapping or "{}")
        except ValueError as exc:
            raise CommandError(f'--mapping is not valid JSON ({exc}); e.g. \'{{"external_id": "id"}}\'') from None
        config = {"path": str(path.resolve()), "preset": preset or "", "mapping": column_mapping}
        config["format"] = format or ("jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv")
        try:
            config = FileCollector.config_validate(name=source, config=config)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        target, created = Source.objects.get_or_create(
            name=source, defaults={"kind": Source.Kind.FILE, "config": config, "enabled": False}
        )
        total = IngestResult()
        size = path.stat().st_size
        with path.open("rb") as stream:
            drafts = file_drafts(stream, config=config)
            while chunk := list(islice(drafts, CHUNK)):
                total.add(items_ingest(source_id=target.pk, drafts=chunk))
                self._progress(stream.tell() if not stream.closed else size, size, total)
        if sys.stderr.isatty():
            sys.stderr.write("\n")
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(total.skip_reasons.items()))
        self.stdout.write(
            f"Done! {'Created' if created else 'Into'} source '{target.name}': imported {total.new:,}, "
            f"updated {total.updated:,}, skipped {total.skipped:,}" + (f" ({reasons})" if reasons else "") + "."
        )

    def _progress(self, done: int, size: int, total: IngestResult) -> None:
        line = f"{progress_bar(done, size)} {done * 100 // max(size, 1):3d}%  {total.stored + total.skipped:,} rows"
        if not progress_show(line):
            self.stderr.write(line)  # not a terminal: one line per chunk for the log
