"""A source's credentials: the kind-independent rules of ``apps.core.config_secrets`` given what the source's
collector declares, plus the names that always hold one and the secrets the environment supplies."""

from __future__ import annotations

import os
from typing import Any

from apps.core import config_secrets as core
from apps.core.redact import MASK
from apps.plugins.collectors import COLLECTORS, collector_class

__all__ = ["MASK", "config_masked", "config_secrets_restore", "secret_keys", "secrets_scrubbed"]

# Keys that hold a credential whatever the kind declares, so a kind that forgets ``secret=True`` or a
# config saved before its kind existed still does not show one.
SECRET_KEY_NAMES = frozenset({"api_key", "bearer_token", "client_secret", "password", "secret", "token"})


def secret_keys(kind: str) -> frozenset[str]:
    """The config keys of ``kind`` that hold credentials."""
    if kind not in COLLECTORS:
        return SECRET_KEY_NAMES
    return SECRET_KEY_NAMES | collector_class(kind).secret_keys()


def _env_secrets(kind: str, config: dict[str, Any]) -> list[str]:
    """Secret keys absent from ``config`` that the environment supplies: they go wherever the config points."""
    if kind not in COLLECTORS:
        return []
    return [
        spec.name
        for spec in collector_class(kind).fields
        if spec.secret and spec.env and os.environ.get(spec.env) and config.get(spec.name) in (None, "")
    ]


def config_masked(*, kind: str, config: Any) -> Any:
    """A source's config as the admin and the API show it."""
    return core.config_masked(config=config, secrets=secret_keys(kind))


def config_secrets_restore(*, name: str, kind: str, config: Any, stored: Any) -> Any:
    """A submitted source config with masked credentials put back (see ``apps.core.config_secrets``)."""
    return core.config_secrets_restore(
        name=name,
        label="Source",
        config=config,
        stored=stored,
        destinations=collector_class(kind).destinations() if kind in COLLECTORS else {},
        env_kept=lambda restored: _env_secrets(kind, restored),
    )


def secrets_scrubbed(*, kind: str, config: Any, text: str) -> str:
    """``text`` with every credential the source would use (from its config or the environment) masked."""
    values = []
    if isinstance(config, dict):
        values = [str(config[key]) for key in secret_keys(kind) if config.get(key) not in (None, "")]
    if kind in COLLECTORS:
        values += [
            os.environ[spec.env]
            for spec in collector_class(kind).fields
            if spec.secret and spec.env and os.environ.get(spec.env)
        ]
    return core.secrets_scrubbed(values=values, text=text)
