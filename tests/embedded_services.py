"""pytest plugin: the suite's own throw-away PostgreSQL+pgvector and Redis, started before Django loads.

Loaded with ``-p tests.embedded_services`` (pyproject) because pytest-django reads the settings before any
conftest runs; the services are stopped and deleted when the session ends, leaving no process behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

import pytest

# Before importing trendsite: its celery module would otherwise set the base settings as the default,
# and an environment variable outranks pytest-django's ini setting.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trendsite.settings.test")

from trendsite import embedded

_stack = contextlib.ExitStack()
_services: embedded.Services | None = None


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _services
    # The session's own metrics files (prometheus-client reads the variable once, on import): counters of an
    # earlier run, or of a `make run` on this checkout, would otherwise add to what the tests measure.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _stack.enter_context(tempfile.TemporaryDirectory(prefix="metrics-"))
    if not os.environ.get("DATABASE_URL"):
        _services = _stack.enter_context(embedded.throwaway())
        os.environ["DATABASE_URL"] = _services.database_url
        os.environ["REDIS_URL"] = _services.redis_url
        os.environ["CELERY_BROKER_URL"] = _services.broker_url
    return (yield)


def pytest_unconfigure(config):
    _stack.close()


@pytest.fixture(scope="session")
def embedded_services() -> embedded.Services:
    """The URLs of the session's throw-away services (None when the caller supplied DATABASE_URL)."""
    if _services is None:
        pytest.skip("the suite runs against an external DATABASE_URL")
    return _services
