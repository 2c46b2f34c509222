from django.core.management.base import BaseCommand, CommandError

from apps.alerts.models import Channel
from apps.alerts.services import channel_test_send
from apps.alerts.transports import TransportError

# A 429 asking us to wait longer than this is reported, not waited out.
MAX_RETRY_AFTER_SECONDS = 30.0


class Command(BaseCommand):
    help = "Send a test alert through a channel's real transport now; exits 1 when it fails."

    def add_arguments(self, parser):
        parser.add_argument("--channel", required=True, help="Channel name")

    def handle(self, *args, channel: str, **options):
        try:
            target = Channel.objects.get(name=channel)
        except Channel.DoesNotExist:
            known = ", ".join(Channel.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"no channel named {channel!r} (known: {known})") from None
        try:
            channel_test_send(channel=target, wait_retry_after=MAX_RETRY_AFTER_SECONDS)
        except TransportError as exc:
            target.refresh_from_db()
            hint = " The channel is now disabled." if not target.enabled else ""
            raise CommandError(f"Test alert to {target.name} ({target.kind}) failed: {exc.message}.{hint}") from None
        self.stdout.write(f"Done! Test alert sent to {target.name} ({target.kind}).")
