"""Analytics snapshots in the admin: read-only, their figures shown as readable JSON."""

from __future__ import annotations

from django.contrib import admin

from apps.analytics.models import AnalyticsSnapshot
from apps.core.admin_inlines import ReadOnlyModelAdmin
from apps.core.display import json_pretty_html


@admin.register(AnalyticsSnapshot)
class AnalyticsSnapshotAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "period", "trends", "items_collected")
    list_filter = ("period",)
    date_hierarchy = "created_at"
    fields = ("period", "created_at", "data_pretty")
    readonly_fields = fields

    @admin.display(description="trends")
    def trends(self, snapshot: AnalyticsSnapshot) -> str:
        return f"{snapshot.data.get('totals', {}).get('trends', 0):,}"

    @admin.display(description="items collected")
    def items_collected(self, snapshot: AnalyticsSnapshot) -> str:
        return f"{snapshot.data.get('items_collected', 0):,}"

    @admin.display(description="data")
    def data_pretty(self, snapshot: AnalyticsSnapshot):
        return json_pretty_html(snapshot.data)
