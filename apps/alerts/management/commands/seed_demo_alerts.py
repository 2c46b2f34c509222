from django.core.management.base import BaseCommand

from apps.alerts.models import AlertRule, Channel

DEMO_RULE = "Console: new and viral trends, sources, system"


class Command(BaseCommand):
    help = "Create a console channel and a rule so a local run prints alerts in the worker's terminal; keeps edits."

    def handle(self, *args, **options):
        channel, channel_created = Channel.objects.get_or_create(name="console", defaults={"kind": "console"})
        rule, rule_created = AlertRule.objects.get_or_create(
            name=DEMO_RULE,
            defaults={
                "event_kinds": [
                    "trend.created",
                    "trend.state_changed",
                    "plugin.failed",
                    "plugin.recovered",
                    "system.unhealthy",
                    "system.recovered",
                ],
                "cooldown_minutes": 30,
            },
        )
        if rule_created:
            rule.channels.add(channel)
        self.stdout.write(f"Done! Created {int(channel_created) + int(rule_created)} demo alert object(s).")
