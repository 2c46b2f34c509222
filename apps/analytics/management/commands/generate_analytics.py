from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from apps.analytics.services import PERIODS, analytics_snapshot_create


class Command(BaseCommand):
    help = "Compute analytics snapshots now (the hourly beat task does the same) and refresh the cache."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--period", choices=list(PERIODS), action="append", help="Default: every period")
        parser.add_argument("--as-of", dest="as_of", help="ISO 8601 time the snapshot is taken at (a replayed past)")

    def handle(self, *args, period=None, as_of=None, **options) -> None:
        when = None
        if as_of:
            when = parse_datetime(as_of)
            if when is None:
                raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 time, e.g. 2014-03-10T12:00:00Z.")
            when = make_aware(when) if is_naive(when) else when
        for name in period or list(PERIODS):
            snapshot = analytics_snapshot_create(period=name, now=when)
            data = snapshot.data
            self.stdout.write(
                f"{name}: {data['totals']['trends']:,} trends, {data['totals']['topics']:,} topics, "
                f"{data['totals']['items']:,} items; {data['items_collected']:,} collected in the period."
            )
        self.stdout.write("Done!")
