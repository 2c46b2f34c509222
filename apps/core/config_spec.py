"""The one contract of every "kind" (a source's collector, a channel's transport): its config fields with
types, bounds, defaults and which are secrets, validated into one line per problem.

A kind subclasses ``ConfiguredKind`` and declares ``fields`` (and, when one value is not enough to judge,
``config_problems``); masking and restoring its secrets (``apps.core.config_secrets``), the admin form and
the API serializer (``MaskedConfigFormMixin``, ``MaskedConfigSerializerMixin``) all read that declaration.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

_MISSING = object()
# Bounds on any config, whatever its kind: validation walks it without recursion and quotes it briefly, so a
# hostile value (a 5,000-deep list, a 100 MB string) is one clear message, never a crash or a stall.
CONFIG_MAX_DEPTH = 8
CONFIG_MAX_NODES = 50_000
CONFIG_STRING_MAX_CHARS = 4096
_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother, _SHOWN.maxlist, _SHOWN.maxdict = 2, 60, 60, 4, 4


@dataclass(frozen=True)
class ConfigField:
    """One config key: its type, bounds and default. ``env`` names the variable a secret may come from.

    ``check`` replaces the generic type and bounds checks for a present value with the kind's own, returning
    its problems (each read after the key's name); ``required_message`` is what a missing required key says
    instead of "is required". ``destination`` marks a key naming where requests (and the credentials that go
    with them) are sent; by default any non-secret ``url`` / ``*_url`` key is one."""

    name: str
    type: type | tuple[type, ...]
    default: Any = _MISSING
    min: int | None = None
    max: int | None = None
    choices: tuple[str, ...] = ()
    env: str = ""
    secret: bool = False
    help: str = ""
    items: type | None = None  # for a list: the type every entry must have
    check: Callable[[Any], list[str]] | None = None
    required_message: str = ""
    destination: bool | None = None

    @property
    def required(self) -> bool:
        return self.default is _MISSING and not self.env

    @property
    def is_destination(self) -> bool:
        if self.destination is not None:
            return self.destination
        return not self.secret and (self.name == "url" or self.name.endswith("_url"))


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", list: "a list", dict: "an object", bool: "true or false"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


_PLURALS = {str: "strings", int: "integers", dict: "objects"}


def value_shown(value: Any) -> str:
    """A short, safe quotation of any JSON value (bounded in depth and length)."""
    return _SHOWN.repr(value)


def config_shape_problem(config: Any) -> str:
    """What makes ``config`` too large or too deep to validate, or "" (walked iteratively, never recursing)."""
    stack, nodes = [(config, 1)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > CONFIG_MAX_NODES:
            return f"has more than {CONFIG_MAX_NODES:,} values"
        if depth > CONFIG_MAX_DEPTH:
            return f"is nested deeper than {CONFIG_MAX_DEPTH} levels"
        if isinstance(value, str) and len(value) > CONFIG_STRING_MAX_CHARS:
            return f"holds a string of {len(value):,} characters (at most {CONFIG_STRING_MAX_CHARS:,})"
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return ""


def _field_error(spec: ConfigField, value: Any) -> str:
    """The problem with one value, or "" when it is fine."""
    if isinstance(value, bool) and spec.type is int:
        return f"must be {_type_name(spec.type)}, got {value!r}"
    if not isinstance(value, spec.type):
        return f"must be {_type_name(spec.type)}, got {type(value).__name__} {value_shown(value)}"
    if spec.items is not None and isinstance(value, list):
        bad = next((v for v in value if not isinstance(v, spec.items) or isinstance(v, bool)), _MISSING)
        if bad is not _MISSING:
            return f"entries must be {_PLURALS.get(spec.items, spec.items.__name__)}, got {value_shown(bad)}"
    if spec.choices:
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in spec.choices]
        if bad:
            return f"must be one of {', '.join(spec.choices)}, got {value_shown(bad[0])}"
    if isinstance(value, int) and (
        (spec.min is not None and value < spec.min) or (spec.max is not None and value > spec.max)
    ):
        return f"must be {spec.min}–{spec.max}, got {value}"
    if isinstance(value, list | str) and spec.min is not None and len(value) < spec.min:
        return "must not be empty" if spec.min == 1 else f"needs at least {spec.min} entries"
    if isinstance(value, list) and spec.max is not None and len(value) > spec.max:
        return f"takes at most {spec.max} entries, got {len(value)}"
    return ""


def _field_problems(spec: ConfigField, value: Any) -> list[str]:
    if spec.check is not None:
        return spec.check(value)
    problem = _field_error(spec, value)
    if problem and spec.secret:  # the message must not quote a credential
        problem = f"must be {_type_name(spec.type)}"
    return [problem] if problem else []


class ConfiguredKind:
    """Base of every kind: ``kind``, ``label`` ("Source", "Channel"), ``fields``, an ``example`` config."""

    kind: ClassVar[str]
    label: ClassVar[str] = "Config"
    fields: ClassVar[tuple[ConfigField, ...]] = ()
    example: ClassVar[str] = ""

    @classmethod
    def config_validate(cls, *, name: str, config: Any) -> dict[str, Any]:
        """The config with defaults filled in; ValidationError naming every bad field otherwise."""
        prefix = f"{cls.label} '{name or '(new)'}' config"
        if not isinstance(config, dict):
            like = f" like {cls.example}" if cls.example else ""
            raise ValidationError(f"{prefix}: must be a JSON object{like}, got {type(config).__name__}")
        shape = config_shape_problem(config)
        if shape:
            raise ValidationError(f"{prefix}: {shape}")
        known = {spec.name: spec for spec in cls.fields}
        errors = [
            f"{prefix}: unknown key {value_shown(key)} (known: {', '.join(known) or 'none'})"
            for key in config
            if key not in known
        ]
        cleaned: dict[str, Any] = {}
        for spec in cls.fields:
            if spec.name not in config or config[spec.name] in (None, ""):
                if spec.required:
                    message = spec.required_message or f"is required{f' ({spec.help})' if spec.help else ''}"
                    errors.append(f"{prefix}: '{spec.name}' {message}")
                elif spec.default is not _MISSING:
                    cleaned[spec.name] = spec.default
                continue
            problems = _field_problems(spec, config[spec.name])
            errors += [f"{prefix}: '{spec.name}' {problem}" for problem in problems]
            if not problems:
                cleaned[spec.name] = config[spec.name]
        if not errors:  # the checks across fields may rely on every field having passed
            errors.extend(f"{prefix}: {problem}" for problem in cls.config_problems(cleaned))
        if errors:
            raise ValidationError(errors)
        return cleaned

    @classmethod
    def config_problems(cls, config: dict[str, Any]) -> list[str]:
        """Checks that span several fields, given a config whose every field passed; subclasses override."""
        return []

    @classmethod
    def secret_keys(cls) -> frozenset[str]:
        """The config keys holding credentials."""
        return frozenset(spec.name for spec in cls.fields if spec.secret)

    @classmethod
    def destinations(cls) -> dict[str, str]:
        """The destination keys with their defaults (what an absent key means)."""
        return {
            spec.name: spec.default if isinstance(spec.default, str) else ""
            for spec in cls.fields
            if spec.is_destination
        }


def http_url_problem(value: Any, *, quote: bool) -> list[str]:
    """A ``check`` for an http(s) URL field; ``quote=False`` for a URL that is itself a credential."""
    if not isinstance(value, str):
        return ["must be a string"]
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"must be an http(s) URL, got {value[:100]!r}" if quote else "must be an http(s) URL"]
    return []
