from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a local (embedded) run: demo superuser. Safe to run again."

    def handle(self, *args, **options):
        call_command("ensure_demo_user", stdout=self.stdout)
