"""Queue a collection of one source now, with a task id the caller can follow."""

from __future__ import annotations

import uuid

from django.db import transaction

from apps.plugins.models import Source
from apps.plugins.tasks import source_collect


def source_collect_queue(*, source: Source, trigger: str) -> str:
    """Send the source's collect task (forced: an operator asked, backoff or not) after commit; its task id."""
    task_id = str(uuid.uuid4())
    transaction.on_commit(
        lambda: source_collect.apply_async(
            args=[source.pk], kwargs={"trigger": trigger, "force": True}, task_id=task_id
        )
    )
    return task_id
