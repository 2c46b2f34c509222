import sys

from django.core.management.base import BaseCommand

from apps.trends.exports import FORMATS, ITEM_COLUMNS, items_export_rows, rows_write


class Command(BaseCommand):
    help = "Export items with their topic, trend, category, language and duplicate (CSV or JSON lines)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", help="Only items of this source (its name)")
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", help="File to write; standard output when absent")

    def handle(self, *args, source=None, format="csv", output=None, **options) -> None:
        rows = items_export_rows(source=source)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                count = rows_write(rows, columns=ITEM_COLUMNS, fmt=format, stream=stream)
            self.stderr.write(f"Done! Exported {count:,} items to {output}.")
        else:
            count = rows_write(rows, columns=ITEM_COLUMNS, fmt=format, stream=self.stdout)
            self.stdout.flush()
            sys.stderr.write(f"Done! Exported {count:,} items.\n")
