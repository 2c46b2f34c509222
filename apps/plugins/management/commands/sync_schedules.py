import json

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.plugins.models import Source
from apps.plugins.services import source_schedule_sync
from trendsite import schedules


class Command(BaseCommand):
    help = "Create the missing default periodic tasks and source schedules; never overwrite an existing one."

    def handle(self, *args, **options):
        created = 0
        for default in schedules.DEFAULT_SCHEDULES:
            if PeriodicTask.objects.filter(name=default.name).exists():
                continue  # the operator may have edited it: leave it be
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=default.interval_seconds(), period=IntervalSchedule.SECONDS
            )
            PeriodicTask.objects.create(
                name=default.name,
                task=default.task,
                interval=interval,
                kwargs=json.dumps(default.kwargs),
                description=default.description,
            )
            created += 1
        for source in Source.objects.filter(periodic_task__isnull=True):
            source_schedule_sync(source=source)
            created += 1
        self.stdout.write(f"Done! Created {created} periodic task(s).")
