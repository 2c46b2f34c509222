from django.apps import AppConfig


class PluginsConfig(AppConfig):
    name = "apps.plugins"
    verbose_name = "Plugins"

    def ready(self) -> None:
        from apps.plugins import signals  # noqa: F401 - connects the receivers
