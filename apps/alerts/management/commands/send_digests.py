from django.core.management.base import BaseCommand

from apps.alerts.digests import digests_send_due


class Command(BaseCommand):
    help = "Send the digests that are due now (each once per day or week); --dry-run only says what it would do."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Send nothing; count what would be sent")

    def handle(self, *args, dry_run: bool, **options):
        outcomes = digests_send_due(dry_run=dry_run)
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items())) or "no subscriptions"
        self.stdout.write(f"{'Dry run' if dry_run else 'Done'}! Digests: {summary}.")
