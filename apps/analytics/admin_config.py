from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    """django.contrib.admin with the console as its site (INSTALLED_APPS names this instead of the stock one)."""

    default_site = "apps.analytics.admin_site.ConsoleAdminSite"
