"""Cursor pagination for lists that grow: a page stays stable while new rows arrive at the top."""

from __future__ import annotations

from rest_framework.pagination import CursorPagination


class ApiCursorPagination(CursorPagination):
    """Newest first by default; a view sets ``ordering`` (a non-null, mostly unique field first)."""

    ordering = "-pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
