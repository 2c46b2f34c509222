from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import task_signals  # noqa: F401 - connects the Celery signal handlers
        from apps.core.task_admin import task_admin_register

        task_admin_register()
