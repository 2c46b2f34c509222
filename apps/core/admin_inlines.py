"""Admins and inlines of rows something else writes (runs, snapshots, delivery attempts, feed states): shown,
never added or edited here."""

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


class ReadOnlyModelAdmin(admin.ModelAdmin):
    """A changelist and view page for rows the application writes: no add, no change (deleting stays as the
    model's permissions allow)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
