"""Credentials in any kind's config (a source's, a channel's): masked wherever a config is shown, kept when a
form sends the mask back, and never sent to a new destination unless entered again.

The kind says which keys are secrets and which are destinations (``ConfiguredKind.secret_keys`` and
``destinations``); these functions take those answers, so they serve collectors and transports alike.

A credential is either a secret key (``bearer_token``, shown as ``MASK``) or part of a URL (``user:pw@``,
``?token=...``, shown with that part masked by ``apps.core.url_mask``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError

from apps.core.redact import MASK
from apps.core.url_mask import text_urls_masked, url_host, url_masked

__all__ = ["MASK", "config_masked", "config_secrets_restore", "secrets_scrubbed"]


def _value_masked(value: Any) -> Any:
    if isinstance(value, str):
        return url_masked(value)
    if isinstance(value, list):
        return [url_masked(entry) if isinstance(entry, str) else entry for entry in value]
    return value


def config_masked(*, config: Any, secrets: frozenset[str]) -> Any:
    """The config with every non-empty credential (the keys in ``secrets``) replaced by ``MASK`` and every
    URL's credentials masked; other values as stored."""
    if not isinstance(config, dict):
        return config
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
    label: str,
    config: Any,
    stored: Any,
    destinations: dict[str, str],
    env_kept: Callable[[dict[str, Any]], list[str]] | None = None,
) -> Any:
    """The submitted config with each credential still showing ``MASK`` put back to its stored value.

    A new value replaces the stored one; an empty one clears it (the environment variable applies again).
    ValidationError when the mask stands for a credential that was never stored, and when a kept credential
    (restored from the mask, or read from the environment) would be sent to a new destination: changing a
    ``*_url`` key's host means entering the credential again. ``destinations`` maps the destination keys to
    their defaults; ``env_kept`` names the secrets the environment supplies to the restored config.
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
    if env_kept is not None:
        kept += env_kept(restored)
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


def secrets_scrubbed(*, values: list[str], text: str) -> str:
    """``text`` with every credential in ``values`` masked, and every URL in it masked too: error messages
    quote URLs, and some APIs (YouTube) take the key in the query string."""
    for value in sorted(set(values), key=len, reverse=True):
        if len(value) >= 4:  # a shorter "secret" would mask ordinary words
            text = text.replace(value, MASK)
    return text_urls_masked(text)
