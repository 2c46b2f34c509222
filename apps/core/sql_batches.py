"""Delete or update the rows a queryset selects in bounded batches, entirely in SQL.

Each batch is one statement in its own transaction: the next ``batch_size`` matching primary keys after the
last batch's (``FOR UPDATE SKIP LOCKED``, so rows another transaction is writing are left for a later run),
then the change. No row reaches Python and no lock outlives its batch, so the site keeps answering while
millions of rows go, and a run stopped halfway has committed whole batches only: running it again
finishes the job.

A raw ``DELETE`` skips Django's ``on_delete`` emulation, and the database constraints Django creates
(``DEFERRABLE INITIALLY DEFERRED`` foreign keys, no ``ON DELETE`` action) would fail the commit, so the
statement applies every relation pointing at the deleted rows itself, from the models' metadata (also
the relations of apps installed later): SET_NULL is an UPDATE, CASCADE a DELETE (recursively), and a row
still referenced through PROTECT or RESTRICT is not selected. Django's delete signals are not sent.
"""

# Identifiers come from model metadata, values are parameters:
# ruff: noqa: S608
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.db.models.deletion import (
    CASCADE,
    DO_NOTHING,
    PROTECT,
    RESTRICT,
    SET_NULL,
    get_candidate_relations_to_delete,
)

BatchDone = Callable[[int], None]  # called after each committed batch with the rows it changed


@dataclass
class _Statement:
    """The data-modifying CTEs of one batch statement (named c1, c2 ...) and their parameters, in order."""

    clauses: list[str] = field(default_factory=list)
    params: list[object] = field(default_factory=list)

    def add(self, sql: str, params: tuple[object, ...] = ()) -> str:
        name = f"c{len(self.clauses) + 1}"
        self.clauses.append(f"{name} AS ({sql})")
        self.params.extend(params)
        return name


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _relations(model: type[models.Model]) -> list[models.ForeignObjectRel]:
    """Concrete foreign keys (and one-to-ones) of any installed model that point at ``model``."""
    # As Django's Collector finds them: hidden ones (related_name="+") included.
    return [
        rel
        for rel in get_candidate_relations_to_delete(model._meta)
        if rel.field.concrete and rel.related_model._meta.managed
    ]


def _protected(model: type[models.Model]) -> models.Q:
    """Rows of ``model`` nothing PROTECTs or RESTRICTs: only those may go."""
    condition = models.Q()
    for rel in _relations(model):
        if rel.on_delete in (PROTECT, RESTRICT):
            referrers = rel.related_model._base_manager.filter(**{rel.field.attname: models.OuterRef("pk")})
            condition &= ~models.Exists(referrers)
    return condition


def _dependents(statement: _Statement, model: type[models.Model], ids: str, seen: tuple[type, ...]) -> None:
    """Add the CTEs that release or delete what points at the rows of ``model`` whose keys CTE ``ids`` holds."""
    for rel in _relations(model):
        related = rel.related_model
        table, column = _quote(related._meta.db_table), _quote(rel.field.column)
        pk = _quote(related._meta.pk.column)
        if rel.on_delete is SET_NULL:
            # A row deleted by this statement must not be updated too (one statement changes a row once).
            not_deleted = f" AND {pk} NOT IN (SELECT id FROM {ids})" if related is model else ""
            statement.add(f"UPDATE {table} SET {column} = NULL WHERE {column} IN (SELECT id FROM {ids}){not_deleted}")
        elif rel.on_delete is CASCADE:
            if related in seen:
                raise ValueError(f"{related._meta.label}: cascading back onto itself is not supported")
            deleted = statement.add(
                f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM {ids}) RETURNING {pk} AS id"
            )
            _dependents(statement, related, deleted, (*seen, related))
        elif rel.on_delete not in (DO_NOTHING, PROTECT, RESTRICT):
            raise ValueError(f"{related._meta.label}.{rel.field.name}: on_delete {rel.on_delete.__name__} unsupported")


def _batches(
    queryset: models.QuerySet, change: Callable[[_Statement], str], batch_size: int, done: BatchDone | None
) -> int:
    """Run the batch statement until a batch finds nothing; the total of rows changed."""
    after, total = None, 0
    while True:
        with transaction.atomic():
            selected = queryset if after is None else queryset.filter(pk__gt=after)
            selected = selected.order_by("pk").values("pk").select_for_update(skip_locked=True, of=("self",))
            select_sql, select_params = selected[:batch_size].query.sql_with_params()
            statement = _Statement()
            last = change(statement)
            sql = (
                f"WITH batch(id) AS ({select_sql}), {', '.join(statement.clauses)} SELECT count(*), max(id) FROM {last}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, (*select_params, *statement.params))
                count, highest = cursor.fetchone()
        if not count:
            return total
        total, after = total + count, highest
        if done is not None:
            done(count)


def rows_delete_batched(*, queryset: models.QuerySet, batch_size: int, done: BatchDone | None = None) -> int:
    """Delete the rows ``queryset`` selects, ``batch_size`` per transaction, applying ``on_delete`` in SQL.

    Returns how many rows of the queryset's model were deleted (rows cascaded to are not counted).
    """
    model = queryset.model
    queryset = queryset.filter(_protected(model))
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)

    def change(statement: _Statement) -> str:
        _dependents(statement, model, "batch", (model,))
        return statement.add(f"DELETE FROM {table} WHERE {pk} IN (SELECT id FROM batch) RETURNING {pk} AS id")

    return _batches(queryset, change, batch_size, done)


def rows_update_batched(
    *, queryset: models.QuerySet, values: dict[str, object], batch_size: int, done: BatchDone | None = None
) -> int:
    """Set ``values`` (field name -> plain value, e.g. None or "") on the rows ``queryset`` selects,
    ``batch_size`` per transaction; how many rows were updated. The queryset should no longer select a row
    once it is updated, so a second run finds nothing."""
    model = queryset.model
    table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
    fields = [model._meta.get_field(name) for name in values]
    assignments = ", ".join(f"{_quote(f.column)} = %s" for f in fields)
    params = tuple(f.get_db_prep_save(values[f.name], connection) for f in fields)

    def change(statement: _Statement) -> str:
        return statement.add(
            f"UPDATE {table} SET {assignments} WHERE {pk} IN (SELECT id FROM batch) RETURNING {pk} AS id", params
        )

    return _batches(queryset, change, batch_size, done)
