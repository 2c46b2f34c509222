import sys

from django.core.management.base import BaseCommand, CommandError

from apps.trends.exports import FORMATS, ITEM_COLUMNS, ExportError, items_export_rows, output_open, rows_write
from apps.trends.models import Item


class Command(BaseCommand):
    help = "Export items with their topic, trend, category, language, URL and publication time (CSV or JSON lines)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="Only items of this source (its name)")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", help="File to write; standard output when absent")

    def handle(self, *args, source=None, format="csv", output=None, **options) -> None:
        # trends never imports plugins: a source "exists" for the export when items or the name say so.
        if source and not Item.objects.filter(source__name=source).exists() and not _source_named(source):
            raise CommandError(f"No source named {source!r}.")
        rows = items_export_rows(source=source)
        if output:
            try:
                stream = output_open(output)
            except ExportError as exc:
                raise CommandError(str(exc)) from None
            with stream:
                count = rows_write(rows, columns=ITEM_COLUMNS, fmt=format, stream=stream)
            self.stderr.write(f"Done! Exported {count:,} items to {output}.")
        else:
            count = rows_write(rows, columns=ITEM_COLUMNS, fmt=format, stream=self.stdout)
            self.stdout.flush()
            sys.stderr.write(f"Done! Exported {count:,} items.\n")


def _source_named(name: str) -> bool:
    return Item._meta.get_field("source").related_model.objects.filter(name=name).exists()
