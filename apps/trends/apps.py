from django.apps import AppConfig


class TrendsConfig(AppConfig):
    name = "apps.trends"
    verbose_name = "Trends"
