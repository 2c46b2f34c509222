from datetime import timedelta

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db.models import Min
from django.utils import timezone

from apps.plugins.management.commands.seed_demo_sources import DEMO_LANES
from apps.trends.models import Item, TrendSnapshot

BACKFILL_STEP = timedelta(minutes=20)  # six hours of replayed past give 18 points on every chart


class Command(BaseCommand):
    help = (
        "Prepare a local (embedded) run: demo superuser, schedules, offline demo sources, a console alert channel, "
        "and the demo's past replayed through the pipeline and analytics. Safe to run again."
    )

    def handle(self, *args, **options):
        call_command("ensure_demo_user", stdout=self.stdout)
        call_command("seed_demo_sources", stdout=self.stdout)
        call_command("seed_demo_alerts", stdout=self.stdout)
        call_command("sync_schedules", stdout=self.stdout)
        call_command("sync_switches", stdout=self.stdout)
        demo = [name for name, _ in DEMO_LANES]
        # The replays release their past at once (stamped in the past); their live rows follow the schedule.
        call_command("collect", *demo, stdout=self.stdout)
        if not TrendSnapshot.objects.exists():
            self._backfill(sources=demo)
        call_command("run_pipeline", stdout=self.stdout)
        call_command("generate_analytics", stdout=self.stdout)

    def _backfill(self, *, sources: list[str]) -> None:
        """Replay the demo's past through the pipeline and analytics, step by step, so the console's charts
        and each trend's score history have points from the first page load. Only on a fresh database: on an
        existing one the schedules have kept the history."""
        start = Item.objects.filter(source__name__in=sources).aggregate(first=Min("published_at"))["first"]
        if start is None:
            return
        now = timezone.now()
        when = start + BACKFILL_STEP
        while when < now:
            call_command("run_pipeline", as_of=when.isoformat(), verbosity=0, stdout=self.stdout)
            call_command("generate_analytics", as_of=when.isoformat(), stdout=self.stdout)
            when += BACKFILL_STEP
