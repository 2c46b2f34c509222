"""Keep each source's health row and periodic task in step with the source, whoever saves it."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from apps.plugins.models import PluginHealth, Source
from apps.plugins.services import source_schedule_sync


@receiver(pre_save, sender=Source, dispatch_uid="plugins.source_saving")
def _source_saving(
    sender: type[Source], instance: Source, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    # The stored name and interval: the periodic task follows a rename, and takes the source's interval only
    # when it changed, so an interval an operator set on the task itself survives other edits of the source.
    if not raw and instance.pk and (update_fields is None or {"name", "poll_interval"} & set(update_fields)):
        stored = Source.objects.filter(pk=instance.pk).values_list("name", "poll_interval").first()
        if stored:
            instance._name_before_save, instance._poll_interval_before_save = stored


@receiver(post_save, sender=Source, dispatch_uid="plugins.source_saved")
def _source_saved(sender: type[Source], instance: Source, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if raw:  # loaddata: leave related rows to the fixture
        return
    if created:
        PluginHealth.objects.get_or_create(source=instance)
    previous_interval = instance.__dict__.pop("_poll_interval_before_save", None)
    source_schedule_sync(
        source=instance,
        previous_name=instance.__dict__.pop("_name_before_save", None),
        reschedule=created or (previous_interval is not None and previous_interval != instance.poll_interval),
    )


@receiver(post_delete, sender=Source, dispatch_uid="plugins.source_deleted")
def _source_deleted(sender: type[Source], instance: Source, **kwargs: Any) -> None:
    if instance.periodic_task_id:
        from django_celery_beat.models import PeriodicTask

        PeriodicTask.objects.filter(pk=instance.periodic_task_id).delete()
