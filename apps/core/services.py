"""Outbox services: write an event with the change, claim unprocessed events exactly once."""

from __future__ import annotations

from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from apps.core.models import Event


def event_emit(*, kind: str, subject: models.Model | None = None, payload: dict[str, Any] | None = None) -> Event:
    """Write an Event inside the caller's transaction, so it exists exactly when the change commits.

    Call it inside the same ``transaction.atomic()`` block as the change it describes.
    """
    return Event.objects.create(
        kind=kind,
        subject_type=subject._meta.label_lower if subject is not None else "",
        subject_id=subject.pk if subject is not None else None,
        payload=payload or {},
    )


@transaction.atomic
def events_claim(*, kinds: list[str] | None = None, limit: int = 100) -> list[Event]:
    """Claim up to ``limit`` unprocessed events, oldest first.

    Concurrent claimers never get the same event: rows are locked with SKIP LOCKED and marked processed
    in one statement, so a second claimer moves on to the next unclaimed rows.
    """
    kind_filter = "AND kind = ANY(%s)" if kinds else ""
    params: list[Any] = [timezone.now()]
    if kinds:
        params.append(list(kinds))
    params.append(limit)
    table = Event._meta.db_table
    sql = f"""
        UPDATE {table} SET processed_at = %s
        WHERE id IN (
            SELECT id FROM {table}
            WHERE processed_at IS NULL {kind_filter}
            ORDER BY id LIMIT %s
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id
    """  # noqa: S608 - table name from the model, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    return list(Event.objects.filter(pk__in=ids).order_by("id"))
