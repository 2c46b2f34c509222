"""Credentials in a source's config: masked wherever a config is shown, kept when a form sends the mask back,
and never sent to a new destination unless entered again.

A credential is either a secret key (``bearer_token``, shown as ``MASK``) or part of a URL (``user:pw@``,
``?token=...``, shown with that part masked by ``apps.core.url_mask``)."""

from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ValidationError

from apps.core.redact import MASK
from apps.core.url_mask import text_urls_masked, url_host, url_masked
from apps.plugins.collectors import COLLECTORS, collector_class

__all__ = ["MASK", "config_masked", "config_secrets_restore", "secret_keys", "secrets_scrubbed"]

# Keys that hold a credential whatever the kind declares, so a kind that forgets ``secret=True`` or a
# config saved before its kind existed still does not show one.
SECRET_KEY_NAMES = frozenset({"api_key", "bearer_token", "client_secret", "password", "secret", "token"})


def secret_keys(kind: str) -> frozenset[str]:
    """The config keys of ``kind`` that hold credentials."""
    if kind not in COLLECTORS:
        return SECRET_KEY_NAMES
    return SECRET_KEY_NAMES | {spec.name for spec in collector_class(kind).fields if spec.secret}


def _is_destination(key: str) -> bool:
    """A key naming where requests, and so the credentials that go with them, are sent."""
    return key == "url" or key.endswith("_url")


def _source_destinations(kind: str) -> dict[str, str]:
    """The destination keys of a source kind with their defaults (what an absent key means)."""
    if kind not in COLLECTORS:
        return {}
    return {
        spec.name: spec.default if isinstance(spec.default, str) else ""
        for spec in collector_class(kind).fields
        if _is_destination(spec.name)
    }


def _env_secrets(kind: str, config: dict[str, Any]) -> list[str]:
    """Secret keys absent from ``config`` that the environment supplies: they go wherever the config points."""
    if kind not in COLLECTORS:
        return []
    return [
        spec.name
        for spec in collector_class(kind).fields
        if spec.secret and spec.env and os.environ.get(spec.env) and config.get(spec.name) in (None, "")
    ]


def _value_masked(value: Any) -> Any:
    if isinstance(value, str):
        return url_masked(value)
    if isinstance(value, list):
        return [url_masked(entry) if isinstance(entry, str) else entry for entry in value]
    return value


def config_masked(*, kind: str, config: Any, secrets: frozenset[str] | None = None) -> Any:
    """The config with every non-empty credential replaced by ``MASK`` and every URL's credentials masked;
    other values as stored.

    ``secrets`` names the credential keys for configs that are not a source's (alert channels)."""
    if not isinstance(config, dict):
        return config
    secrets = secret_keys(kind) if secrets is None else secrets
    return {
        key: (MASK if value not in (None, "") else value) if key in secrets else _value_masked(value)
        for key, value in config.items()
    }


def _url_restored(value: str, stored: Any) -> str | None:
    """The stored URL ``value`` is the masked form of; None when it shows the mask for nothing stored."""
    candidates = stored if isinstance(stored, list) else [stored]
    for candidate in candidates:
        if isinstance(candidate, str) and candidate != value and url_masked(candidate) == value:
            return candidate
    return None


def _urls_restored(key: str, value: Any, stored: Any, unknown: list[str]) -> Any:
    """``value`` with each URL still showing its masked credentials put back to the stored URL."""
    if isinstance(value, str) and MASK in value and value != MASK:
        restored = _url_restored(value, stored)
        if restored is None:
            unknown.append(f"'{key}' has {value[:200]!r}")
        return restored or value
    if isinstance(value, list):
        return [_urls_restored(key, entry, stored, unknown) for entry in value]
    return value


def config_secrets_restore(
    *,
    name: str,
    kind: str,
    config: Any,
    stored: Any,
    label: str = "Source",
    destinations: dict[str, str] | None = None,
) -> Any:
    """The submitted config with each credential still showing ``MASK`` put back to its stored value.

    A new value replaces the stored one; an empty one clears it (the environment variable applies again).
    ValidationError when the mask stands for a credential that was never stored, and when a kept credential
    (restored from the mask, or read from the environment) would be sent to a new destination: changing a
    ``*_url`` key's host means entering the credential again. ``destinations`` maps the destination keys to
    their defaults for configs that are not a source's (alert channels).
    """
    if not isinstance(config, dict):
        return config
    stored = stored if isinstance(stored, dict) else {}
    prefix = f"{label} '{name or '(new)'}' config"
    restored, unknown, masked_urls, kept = dict(config), [], [], []
    for key, value in config.items():
        if value == MASK:
            if stored.get(key) in (None, ""):
                unknown.append(key)
            else:
                restored[key] = stored[key]
                kept.append(key)
        else:
            restored[key] = _urls_restored(key, value, stored.get(key), masked_urls)
    errors = [
        f"{prefix}: '{key}' shows the mask {MASK} but no value is stored; enter the credential or remove the key"
        for key in unknown
    ]
    errors += [
        f"{prefix}: {entry}, a masked URL that matches no stored one; enter the URL with its credentials"
        for entry in masked_urls
    ]
    if errors:
        raise ValidationError(errors)
    if destinations is None:
        destinations = _source_destinations(kind)
        kept += _env_secrets(kind, restored)
    moved = [
        (key, url_host(str(stored.get(key) or default)), url_host(str(restored.get(key) or default)))
        for key, default in destinations.items()
    ]
    moved = [(key, old, new) for key, old, new in moved if old != new]
    if kept and moved:
        key, old, new = moved[0]
        raise ValidationError(
            [
                f"{prefix}: re-enter {secret}: the destination changed ('{key}' now sends to {new or 'nowhere'}, "
                f"not {old or 'nowhere'})"
                for secret in kept
            ]
        )
    return restored


def secrets_scrubbed(*, kind: str, config: Any, text: str) -> str:
    """``text`` with every credential the source would use (from its config or the environment) masked, and
    every URL in it masked too: error messages quote URLs, and some APIs (YouTube) take the key in the query
    string."""
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
    return text_urls_masked(text)
