from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Prepare a local (embedded) run: demo superuser, schedules, offline demo sources, a console alert channel. "
        "Safe to run again."
    )

    def handle(self, *args, **options):
        call_command("ensure_demo_user", stdout=self.stdout)
        call_command("seed_demo_sources", stdout=self.stdout)
        call_command("seed_demo_alerts", stdout=self.stdout)
        call_command("sync_schedules", stdout=self.stdout)
        call_command("sync_switches", stdout=self.stdout)
        # The file demo is collected at once so the admin has items on first load; replay follows its schedule.
        call_command("collect", "demo-file", "demo-replay", stdout=self.stdout)
        # First trends before the first page load; beat's pipeline schedule carries on from here.
        call_command("run_pipeline", stdout=self.stdout)
        # The console's figures from the first page load; the hourly schedule adds the history.
        call_command("generate_analytics", stdout=self.stdout)
