"""Sentry wiring, imported only when SENTRY_DSN is set."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.redis import RedisIntegration


def sentry_init(*, dsn: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration(), CeleryIntegration(monitor_beat_tasks=True), RedisIntegration()],
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
    )
