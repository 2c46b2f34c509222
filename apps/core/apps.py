from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    verbose_name = "Core"

    def ready(self) -> None:
        from apps.core import checks, task_metrics, task_signals  # noqa: F401 - registers checks, connects signals
        from apps.core.task_admin import task_admin_register

        task_admin_register()

        # Every process (web included) registers the task modules at start, not only workers: the periodic
        # task form lists the registered tasks, and a web process that never imported one showed none.
        from trendsite.celery import app

        app.autodiscover_tasks(force=True)
