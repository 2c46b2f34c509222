from django.core.management.base import BaseCommand

from apps.alerts.services import alerts_dispatch, notification_send, notifications_due, storm_summaries_write


class Command(BaseCommand):
    help = "One delivery pass, synchronously: claim new events, match rules, send what is due. Prints the counts."

    def handle(self, *args, **options):
        events, created = 0, {}
        while (result := alerts_dispatch(enqueue=False)).events:
            events += result.events
            for status, n in result.created.items():
                created[status] = created.get(status, 0) + n
        storm_summaries_write(enqueue=False)
        outcomes: dict[str, int] = {}
        for notification_id in notifications_due():
            outcome = notification_send(notification_id=notification_id)
            outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
        written = ", ".join(f"{n} {status}" for status, n in sorted(created.items())) or "none"
        sent = ", ".join(f"{n} {status}" for status, n in sorted(outcomes.items())) or "nothing due"
        self.stdout.write(f"Done! {events:,} events; notifications written: {written}; sends: {sent}.")
