import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _django_setup(settings_module: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "postgres://user@host:notaport/db"),
        ("REDIS_URL", "http://localhost:6379"),
        ("REDIS_URL", "redis://"),
        ("CELERY_BROKER_URL", "ftp://broker"),
        ("DEBUG", "ture"),
        ("EMAIL_PORT", "twenty-five"),
    ],
)
def test_malformed_setting_stops_startup_naming_the_variable(variable, value):
    result = _django_setup("trendsite.settings.base", **{variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def _manage_in_production(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``manage.py ARGS`` under production settings with real-looking values for what they require (``env``
    adds or overrides variables)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={
            **os.environ,
            **env,
            "DJANGO_SETTINGS_MODULE": "trendsite.settings.production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "trends.example.com",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_refuse_a_missing_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "trendsite.settings.production", "ALLOWED_HOSTS": "example.com"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr.splitlines()[-1]


def test_production_check_deploy_is_clean_with_real_values():
    result = _manage_in_production("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(("dsn", "active"), [("", "False"), ("http://public@127.0.0.1:9/1", "True")])
def test_sentry_starts_only_with_a_dsn(dsn, active):
    code = (
        "import django, sentry_sdk; django.setup(); c = sentry_sdk.get_client();"
        "print(c.is_active(), sorted(c.integrations) if c.is_active() else '')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "trendsite.settings.base", "SENTRY_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == active
    if dsn:
        assert all(name in result.stdout for name in ("'django'", "'celery'", "'redis'"))


def test_demo_user_is_refused_under_production_settings():
    result = _manage_in_production("ensure_demo_user")
    assert result.returncode == 1
    assert "refuses to run under production settings" in result.stderr
    assert "Demo login" not in result.stdout


@pytest.mark.django_db
def test_demo_user_is_refused_when_the_setting_is_off(settings):
    from django.contrib.auth.models import User
    from django.core.management import CommandError, call_command

    settings.DEMO_USER_ALLOWED = False
    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("ensure_demo_user")
    assert not User.objects.filter(username="admin").exists()


_PAGES_WITHOUT_COLLECTSTATIC = """
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client(HTTP_HOST="localhost")
for path in ("/api/docs/", "/admin/login/"):
    print(path, client.get(path).status_code)
print(settings.STORAGES["staticfiles"]["BACKEND"])
"""


def test_default_settings_serve_docs_and_admin_pages_without_collectstatic():
    result = subprocess.run(
        [sys.executable, "-c", _PAGES_WITHOUT_COLLECTSTATIC],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "trendsite.settings.base"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == ["/api/docs/ 200", "/admin/login/ 200"], result.stdout
    assert "Manifest" not in result.stdout  # no manifest lookup, whether or not staticfiles/ exists


def test_production_settings_keep_the_hashed_manifest_storage():
    result = _manage_in_production("shell", "-c", "from django.conf import settings; print(settings.STORAGES)")
    assert result.returncode == 0, result.stderr
    assert "CompressedManifestStaticFilesStorage" in result.stdout


def test_check_deploy_warns_when_cache_and_broker_share_one_redis():
    result = _manage_in_production(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        REDIS_URL="redis://redis.internal:6379/0",
        CELERY_BROKER_URL="redis://redis.internal:6379/1",
    )
    assert result.returncode != 0
    assert "trendsite.W001" in result.stderr and "same Redis server" in result.stderr
