"""A channel's config through its transport's declaration (apps.core.config_spec): validated with one line
per problem, credentials masked, restored from the mask, and scrubbed from error messages."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.alerts.transports import TRANSPORTS, Transport, transport_class
from apps.core.config_secrets import MASK, config_masked, config_secrets_restore
from apps.core.url_mask import text_url_hidden, text_urls_masked


def _kind(kind: str, *, name: str) -> type[Transport]:
    if kind not in TRANSPORTS:
        raise ValidationError(
            f"Channel '{name or '(new)'}' config: unknown channel kind {kind!r} (known: {', '.join(TRANSPORTS)})"
        )
    return transport_class(kind)


def channel_config_validate(*, kind: str, name: str, config: Any) -> dict[str, Any]:
    """The config if it is usable for ``kind``; ValidationError with one line per problem otherwise.

    Lines read like ``Channel 'ops' config: 'to' has an invalid address 'nobody'``."""
    return _kind(kind, name=name).config_validate(name=name, config=config)


def channel_config_masked(*, kind: str, config: Any) -> Any:
    """The config as the admin and the API show it: credentials replaced by the mask."""
    secrets = transport_class(kind).secret_keys() if kind in TRANSPORTS else frozenset()
    return config_masked(config=config, secrets=secrets)


def channel_config_restore(*, name: str, kind: str, config: Any, stored: Any) -> Any:
    """The submitted config with masked credentials put back to their stored values."""
    spec = _kind(kind, name=name)
    return config_secrets_restore(
        name=name, label="Channel", config=config, stored=stored, destinations=spec.destinations()
    )


def _secret_values(kind: str, config: Any) -> list[str]:
    if kind not in TRANSPORTS or not isinstance(config, dict):
        return []
    values: list[str] = []
    for key in transport_class(kind).secret_keys():
        value = config.get(key)
        values += [entry for entry in (value if isinstance(value, list) else [value]) if isinstance(entry, str)]
    return values


def channel_secrets_scrubbed(*, kind: str, config: Any, text: str) -> str:
    """``text`` with the channel's credentials masked and every URL in it masked: error messages quote URLs,
    and a Slack webhook URL is itself the credential, hidden in whatever spelling the error quotes it
    (``http://LOCALHOST:80/services/...`` as the client normalised it is the stored URL all the same)."""
    for value in sorted(_secret_values(kind, config), key=len, reverse=True):
        if len(value) >= 4:
            text = text_url_hidden(text.replace(value, MASK), secret_url=value)
    return text_urls_masked(text)
