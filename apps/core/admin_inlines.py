"""Inlines of rows something else writes (runs, snapshots, delivery attempts): shown, never edited here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyTabularInline(admin.TabularInline):
    """Every listed field read-only, no extra forms, no adding, no deleting."""

    extra = 0
    max_num = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> tuple[str, ...]:
        return tuple(self.fields or ())
