from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.timesince import timesince

from apps.core.queues import queues_inspect


class Command(BaseCommand):
    help = "Print the length of every Celery queue and its oldest waiting task."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--broker-url", dest="broker_url", help="Another broker (default: CELERY_BROKER_URL)")

    def handle(self, *args, broker_url=None, **options) -> None:
        state = queues_inspect(broker_url=broker_url)
        if state.error:
            raise CommandError(f"The broker is unreachable ({state.error}); check CELERY_BROKER_URL and that it runs.")
        now = timezone.now()
        width = max(len(queue.name) for queue in state.queues)
        for queue in state.queues:
            line = f"{queue.name:<{width}}  {queue.length:>8,}"
            if queue.oldest:
                waited = f"waiting {timesince(queue.oldest.sent_at, now)}" if queue.oldest.sent_at else "queued at ?"
                eta = f", eta {queue.oldest.eta:%Y-%m-%d %H:%M:%S}" if queue.oldest.eta else ""
                line += f"  oldest: {queue.oldest.name} {queue.oldest.task_id} ({waited}{eta})"
            self.stdout.write(line)
        self.stdout.write(f"Done! {state.total:,} tasks waiting in {len(state.queues)} queues.")
