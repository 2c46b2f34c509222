"""The one typed reader of the environment: every setting that comes from outside passes here.

A malformed value stops start-up with ImproperlyConfigured naming the variable.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql"}
_REDIS_SCHEMES = {"redis", "rediss", "unix"}
_BROKER_SCHEMES = _REDIS_SCHEMES | {"amqp", "amqps", "pyamqp", "redis+socket", "memory"}


def _url(name: str, value: str, schemes: set[str]) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a valid URL ({exc}): {value!r}") from None
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ImproperlyConfigured(f"{name} must be a URL with scheme {allowed}; got {value!r}")
    if parts.scheme != "unix" and not parts.hostname and parts.scheme != "memory":
        raise ImproperlyConfigured(f"{name} has no host: {value!r}")
    return value


def database(name: str, default: str) -> dict[str, Any]:
    """DATABASES['default'] from a postgres:// URL; the host may be a %-encoded socket directory."""
    value = _url(name, env.str(name, default=default), _DATABASE_SCHEMES)
    if not urlsplit(value).path.strip("/"):
        raise ImproperlyConfigured(f"{name} names no database (postgres://user@host:port/DBNAME): {value!r}")
    config = environ.Env.db_url_config(value)
    config["HOST"] = unquote(config["HOST"])
    return config


def redis_url(name: str, default: str) -> str:
    return _url(name, env.str(name, default=default), _REDIS_SCHEMES)


def broker_url(name: str, default: str) -> str:
    return _url(name, env.str(name, default=default), _BROKER_SCHEMES)


def typed(reader: str, name: str, **kwargs: Any) -> Any:
    """env.bool / env.int / env.float / env.list ... with the variable named in any error."""
    try:
        return getattr(env, reader)(name, **kwargs)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name} has a malformed value: {exc}") from None


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def boolean(name: str, default: bool) -> bool:
    """A strict boolean: a typo such as DEBUG=ture is an error, not a silent False."""
    raw = env.str(name, default=str(default)).strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


_RATE = re.compile(r"^\d+/\d*[smhd]$")


def rate(name: str, default: str) -> str:
    """A django-ratelimit rate such as ``10/m`` or ``100/5m``."""
    value = env.str(name, default=default).strip()
    if not _RATE.match(value):
        raise ImproperlyConfigured(f"{name} must be a rate like 10/m, 100/h or 30/5m; got {value!r}")
    return value
