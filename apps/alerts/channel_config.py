"""A channel's config, validated per kind with one-line messages, and which keys are credentials."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from apps.core.url_mask import text_url_hidden, text_urls_masked
from apps.plugins.config_secrets import MASK, config_masked, config_secrets_restore

MAX_RECIPIENTS = 50
MIN_SECRET_LENGTH = 16
# Keys shown as a mask in the admin and the API: a Slack webhook URL is itself the credential.
CHANNEL_SECRETS: dict[str, frozenset[str]] = {
    "email": frozenset(),
    "slack": frozenset({"webhook_url"}),
    "webhook": frozenset({"secret"}),
    "console": frozenset(),
}
CHANNEL_KEYS: dict[str, tuple[str, ...]] = {
    "email": ("to",),
    "slack": ("webhook_url",),
    "webhook": ("url", "secret"),
    "console": (),
}
# Keys naming where a channel's credentials are sent (with their defaults): changing one's host while a
# credential shows the mask is refused. A Slack webhook URL is its own credential, so it has none.
CHANNEL_DESTINATIONS: dict[str, dict[str, str]] = {"webhook": {"url": ""}}
EXAMPLES = {
    "email": '{"to": ["ops@example.com"]}',
    "slack": '{"webhook_url": "https://hooks.slack.com/services/..."}',
    "webhook": '{"url": "https://example.com/hook", "secret": "at least 16 characters"}',
    "console": "{}",
}


def _url_problem(value: Any, *, secret: bool) -> str:
    if not isinstance(value, str):
        return "must be a string"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL" if secret else f"must be an http(s) URL, got {value[:100]!r}"
    return ""


def _problems(kind: str, config: dict[str, Any]) -> list[str]:
    problems = []
    if kind == "email":
        to = config.get("to")
        if not isinstance(to, list) or not to:
            return ["'to' must be a non-empty list of addresses, e.g. [\"ops@example.com\"]"]
        if len(to) > MAX_RECIPIENTS:
            problems.append(f"'to' takes at most {MAX_RECIPIENTS} addresses, got {len(to)}")
        for address in to:
            try:
                validate_email(address)
            except (ValidationError, TypeError):
                problems.append(f"'to' has an invalid address {str(address)[:100]!r}")
    elif kind == "slack":
        if not config.get("webhook_url"):
            return ["'webhook_url' is required (the Slack incoming-webhook URL)"]
        if problem := _url_problem(config["webhook_url"], secret=True):
            problems.append(f"'webhook_url' {problem}")
    elif kind == "webhook":
        if not config.get("url"):
            problems.append("'url' is required")
        elif problem := _url_problem(config["url"], secret=False):
            problems.append(f"'url' {problem}")
        secret = config.get("secret")
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
            problems.append(f"'secret' is required: a string of at least {MIN_SECRET_LENGTH} characters")
    return problems


def channel_config_validate(*, kind: str, name: str, config: Any) -> dict[str, Any]:
    """The config if it is usable for ``kind``; ValidationError with one line per problem otherwise.

    Lines read like ``Channel 'ops' config: 'to' has an invalid address 'nobody'``."""
    prefix = f"Channel '{name or '(new)'}' config"
    if kind not in CHANNEL_KEYS:
        raise ValidationError(f"{prefix}: unknown channel kind {kind!r} (known: {', '.join(CHANNEL_KEYS)})")
    if not isinstance(config, dict):
        raise ValidationError(f"{prefix}: must be a JSON object like {EXAMPLES[kind]}, got {type(config).__name__}")
    known = CHANNEL_KEYS[kind]
    errors = [
        f"{prefix}: unknown key '{key}' (known: {', '.join(known) or 'none'})" for key in config if key not in known
    ]
    errors += [f"{prefix}: {problem}" for problem in _problems(kind, config)]
    if errors:
        raise ValidationError(errors)
    return config


def channel_config_masked(*, kind: str, config: Any) -> Any:
    """The config as the admin and the API show it: credentials replaced by the mask."""
    return config_masked(kind=kind, config=config, secrets=CHANNEL_SECRETS.get(kind, frozenset()))


def channel_config_restore(*, name: str, kind: str, config: Any, stored: Any) -> Any:
    """The submitted config with masked credentials put back to their stored values."""
    return config_secrets_restore(
        name=name,
        kind=kind,
        config=config,
        stored=stored,
        label="Channel",
        destinations=CHANNEL_DESTINATIONS.get(kind, {}),
    )


def channel_secrets_scrubbed(*, kind: str, config: Any, text: str) -> str:
    """``text`` with the channel's credentials masked and every URL in it masked: error messages quote URLs,
    and a Slack webhook URL is itself the credential, hidden in whatever spelling the error quotes it
    (``http://LOCALHOST:80/services/...`` as the client normalised it is the stored URL all the same)."""
    if isinstance(config, dict):
        for key in CHANNEL_SECRETS.get(kind, frozenset()):
            value = config.get(key)
            if isinstance(value, str) and len(value) >= 4:
                text = text_url_hidden(text.replace(value, MASK), secret_url=value)
    return text_urls_masked(text)
