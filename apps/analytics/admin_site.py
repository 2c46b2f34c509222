"""The admin site whose index is the operators' console: health at a glance, then charts, then the models."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

REFRESH_SECONDS = 60


class ConsoleAdminSite(admin.AdminSite):
    site_header = "trendsite operations"
    site_title = "trendsite"
    index_title = "Console"
    index_template = "admin/console.html"
    # The sidebar repeats the console's model list and takes 300 px that changelists need at 1,400 px.
    enable_nav_sidebar = False

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        # Imported here: this module loads while the admin registers its models, before they exist.
        from apps.analytics.console import console_context
        from apps.analytics.console_display import hourly_chart, state_chart, top_trend_rows

        context = console_context()
        context.update(
            state_chart=state_chart(times=context.pop("state_times"), series=context.pop("state_series")),
            hourly_chart=hourly_chart(times=context.pop("hour_times"), series=context.pop("hour_series")),
            top_trend_rows=top_trend_rows(context.pop("top_trends")),
            refresh=request.GET.get("refresh") == "1",
            refresh_seconds=REFRESH_SECONDS,
        )
        return super().index(request, {**context, **(extra_context or {})})
