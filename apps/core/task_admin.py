"""django-celery-results' task results in the console: filters for what breaks, retry and revoke actions.

Registered from ``CoreConfig.ready`` (after the admin's autodiscovery registered the package's own admin).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django_celery_results.admin import TaskResultAdmin as BaseTaskResultAdmin
from django_celery_results.models import TaskResult

from apps.core.task_results import TaskResultError, task_result_retry, task_result_revoke


class TaskResultAdmin(BaseTaskResultAdmin):
    list_display = ("task_id", "task_name", "status", "date_created", "date_done", "worker")
    list_filter = ("status", "task_name", "date_done", "periodic_task_name", "worker")
    actions = ["retry_failed", "revoke_pending"]

    def _each(self, request, queryset, service, done: str) -> None:
        ok, refused = 0, []
        for task_id in queryset.values_list("task_id", flat=True):
            try:
                service(task_id=task_id)
                ok += 1
            except TaskResultError as exc:
                refused.append(exc.message)
        if ok:
            self.message_user(request, f"{ok} task(s) {done}.", messages.SUCCESS)
        for message in refused[:10]:
            self.message_user(request, message, messages.WARNING)
        if len(refused) > 10:
            self.message_user(request, f"... and {len(refused) - 10} more refused.", messages.WARNING)

    @admin.action(description="Retry selected failed tasks (original arguments)")
    def retry_failed(self, request, queryset) -> None:
        self._each(request, queryset, task_result_retry, "queued again")

    @admin.action(description="Revoke selected pending tasks (not started yet)")
    def revoke_pending(self, request, queryset) -> None:
        self._each(request, queryset, task_result_revoke, "revoked")


def task_admin_register(site: admin.AdminSite = admin.site) -> None:
    """Replace the package's TaskResult admin with ours."""
    if site.is_registered(TaskResult):
        site.unregister(TaskResult)
    site.register(TaskResult, TaskResultAdmin)
