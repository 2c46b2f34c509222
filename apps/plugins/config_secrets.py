"""Credentials in a source's config: masked wherever the admin shows a config, kept when a form sends the mask."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError

from apps.plugins.collectors import COLLECTORS, collector_class

MASK = "********"
# Keys that hold a credential whatever the kind declares, so a kind that forgets ``secret=True`` or a
# config saved before its kind existed still does not show one.
SECRET_KEY_NAMES = frozenset({"api_key", "bearer_token", "client_secret", "password", "secret", "token"})


def secret_keys(kind: str) -> frozenset[str]:
    """The config keys of ``kind`` that hold credentials."""
    if kind not in COLLECTORS:
        return SECRET_KEY_NAMES
    return SECRET_KEY_NAMES | {spec.name for spec in collector_class(kind).fields if spec.secret}


def config_masked(*, kind: str, config: Any, secrets: frozenset[str] | None = None) -> Any:
    """The config with every non-empty credential replaced by ``MASK``; other values as stored.

    ``secrets`` names the credential keys for configs that are not a source's (alert channels)."""
    if not isinstance(config, dict):
        return config
    secrets = secret_keys(kind) if secrets is None else secrets
    return {key: MASK if key in secrets and value not in (None, "") else value for key, value in config.items()}


def config_secrets_restore(*, name: str, kind: str, config: Any, stored: Any, label: str = "Source") -> Any:
    """The submitted config with each credential still showing ``MASK`` put back to its stored value.

    A new value replaces the stored one; an empty one clears it (the environment variable applies again).
    ValidationError when the mask stands for a credential that was never stored.
    """
    if not isinstance(config, dict):
        return config
    stored = stored if isinstance(stored, dict) else {}
    restored, unknown = dict(config), []
    for key, value in config.items():
        if value == MASK:
            if stored.get(key) in (None, ""):
                unknown.append(key)
            else:
                restored[key] = stored[key]
    if unknown:
        raise ValidationError(
            [
                f"{label} '{name or '(new)'}' config: '{key}' shows the mask {MASK} but no value is stored; enter the "
                "credential or remove the key"
                for key in unknown
            ]
        )
    return restored


def secrets_scrubbed(*, kind: str, config: Any, text: str) -> str:
    """``text`` with every credential the source would use (from its config or the environment) masked:
    error messages quote URLs, and some APIs (YouTube) take the key in the query string."""
    values = []
    if isinstance(config, dict):
        values = [str(config[key]) for key in secret_keys(kind) if config.get(key) not in (None, "")]
    if kind in COLLECTORS:
        values += [
            os.environ[spec.env] for spec in collector_class(kind).fields if spec.secret and os.environ.get(spec.env)
        ]
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) >= 4:  # a shorter "secret" would mask ordinary words
            text = text.replace(value, MASK)
    return text
