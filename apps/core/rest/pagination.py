"""Cursor pagination for lists that grow: a page stays stable while new rows arrive at the top."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


def _ordering_field(queryset: QuerySet, name: str) -> Field | None:
    """The model field (or annotation's output field) a cursor position is compared with."""
    if name in queryset.query.annotations:
        return queryset.query.annotations[name].output_field
    model, field = queryset.model, None
    for part in name.split("__"):
        try:
            field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = field.related_model or model
    return getattr(field, "target_field", field)


class ApiCursorPagination(CursorPagination):
    """Newest first by default; a view sets ``ordering`` (a non-null, mostly unique field first).

    A cursor is client-supplied text: its position is checked against the ordering field's type before it
    reaches a query, so a forged cursor (``p=abc`` on a float, a NUL on a text field) is DRF's 404 "Invalid
    cursor" like any other bad cursor, never a database error."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: QuerySet, request: Request, view: Any = None) -> list | None:
        self._queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> Cursor | None:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        if "\x00" in cursor.position:
            raise NotFound(self.invalid_cursor_message)
        field = _ordering_field(self._queryset, self.ordering[0].lstrip("-"))
        if field is not None:
            try:
                field.to_python(cursor.position)
            except (ValidationError, TypeError, ValueError):
                raise NotFound(self.invalid_cursor_message) from None
        return cursor
