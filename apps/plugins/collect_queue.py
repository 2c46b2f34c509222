""" "Collect now": queue a forced collection of sources, the one path the admin action and the API share."""

from __future__ import annotations

import uuid

from django.db import transaction

from apps.core.outage import broker_require
from apps.plugins.tasks import source_collect


def sources_collect_queue(*, source_ids: list[int], trigger: str) -> list[str]:
    """Send each source's collect task (forced: an operator asked, backoff or not) after commit; the task ids,
    in the order of ``source_ids``, for the caller to follow.

    Raises ServiceDown, naming the broker, when it cannot be reached: checked first and published without
    kombu's retries, so an operator hears of an outage at once instead of after a long hang or a 500.
    """
    broker_require()
    task_ids = [str(uuid.uuid4()) for _ in source_ids]

    def send() -> None:
        for source_id, task_id in zip(source_ids, task_ids, strict=True):
            source_collect.apply_async(
                args=[source_id], kwargs={"trigger": trigger, "force": True}, task_id=task_id, retry=False
            )

    transaction.on_commit(send)
    return task_ids
