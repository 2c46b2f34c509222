from django.core.management.base import BaseCommand, CommandError

from apps.trends.exports import FORMATS, TREND_COLUMNS, ExportError, output_open, rows_write, trends_export_rows


class Command(BaseCommand):
    help = "Export trends with state, score, velocity, counts, category, URL and time (CSV or JSON lines)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="csv")
        parser.add_argument("--output", help="File to write; standard output when absent")

    def handle(self, *args, format="csv", output=None, **options) -> None:
        if output:
            try:
                stream = output_open(output)
            except ExportError as exc:
                raise CommandError(str(exc)) from None
            with stream:
                count = rows_write(trends_export_rows(), columns=TREND_COLUMNS, fmt=format, stream=stream)
        else:
            count = rows_write(trends_export_rows(), columns=TREND_COLUMNS, fmt=format, stream=self.stdout)
        self.stderr.write(f"Done! Exported {count:,} trends{f' to {output}' if output else ''}.")
