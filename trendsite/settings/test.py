"""Test settings: the suite's own throw-away embedded services (see tests/conftest.py)."""

from trendsite.settings.base import *  # noqa: F403

SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests serve recorded payloads from local HTTP servers on loopback.
TRENDSITE_OUTBOUND_ALLOW = ["127.0.0.0/8", "::1/128"]
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
