"""The Celery application; its configuration lives in settings under the CELERY_ namespace."""

import logging.config
import os

from celery import Celery
from celery.signals import before_task_publish, setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trendsite.settings.base")

app = Celery("trendsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Celery logs through Django's LOGGING instead of installing its own handlers."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@before_task_publish.connect
def _stamp_sent_at(headers: dict | None = None, **kwargs) -> None:
    """Record when a task was queued, so `manage.py queues` and the console can say how long it waits."""
    if headers is not None:
        from django.utils import timezone

        headers.setdefault("sent_at", timezone.now().isoformat())


@app.task(name="trendsite.ping")
def ping() -> str:
    """A no-op task that proves the broker, a worker and the result backend work together."""
    return "pong"
