from django.core.management.base import BaseCommand

from apps.analytics.services import PERIODS, analytics_snapshot_create


class Command(BaseCommand):
    help = "Compute analytics snapshots now (the hourly beat task does the same) and refresh the cache."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", choices=list(PERIODS), action="append", help="Default: every period")

    def handle(self, *args, period=None, **options) -> None:
        for name in period or list(PERIODS):
            snapshot = analytics_snapshot_create(period=name)
            data = snapshot.data
            self.stdout.write(
                f"{name}: {data['totals']['trends']:,} trends, {data['totals']['topics']:,} topics, "
                f"{data['totals']['items']:,} items; {data['items_collected']:,} collected in the period."
            )
        self.stdout.write("Done!")
