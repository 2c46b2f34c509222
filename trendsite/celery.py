"""The Celery application; its configuration lives in settings under the CELERY_ namespace."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trendsite.settings.base")

app = Celery("trendsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    """Celery logs through Django's LOGGING instead of installing its own handlers."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@app.task(name="trendsite.ping")
def ping() -> str:
    """A no-op task that proves the broker, a worker and the result backend work together."""
    return "pong"
