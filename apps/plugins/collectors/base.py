"""What every collector is: a config spec validated with clear field errors, and ``collect()`` -> drafts."""

from __future__ import annotations

import os
import reprlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from django.core.exceptions import ValidationError

from apps.core.http import FetchError
from apps.trends.ingest import ItemDraft

if TYPE_CHECKING:
    from apps.plugins.models import Source

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
    """One config key: its type, bounds and default. ``env`` names the variable a secret may come from."""

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

    @property
    def required(self) -> bool:
        return self.default is _MISSING and not self.env


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


class Collector:
    """Base of every collector: subclasses declare ``kind`` and ``fields`` and implement ``collect``."""

    kind: ClassVar[str]
    fields: ClassVar[tuple[ConfigField, ...]] = ()

    def __init__(self, source: Source) -> None:
        self.source = source
        self.config = self.config_validate(name=source.name, config=source.config)

    @classmethod
    def config_validate(cls, *, name: str, config: Any) -> dict[str, Any]:
        """The config with defaults filled in; ValidationError naming every bad field otherwise."""
        prefix = f"Source '{name or '(new)'}' config"
        if not isinstance(config, dict):
            raise ValidationError(f"{prefix}: must be a JSON object, got {type(config).__name__}")
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
                    errors.append(f"{prefix}: '{spec.name}' is required{f' ({spec.help})' if spec.help else ''}")
                elif spec.default is not _MISSING:
                    cleaned[spec.name] = spec.default
                continue
            problem = _field_error(spec, config[spec.name])
            if problem and spec.secret:  # the message must not quote a credential
                problem = f"must be {_type_name(spec.type)}"
            if problem:
                errors.append(f"{prefix}: '{spec.name}' {problem}")
            else:
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

    def secret(self, name: str) -> str:
        """A credential from the source's config, else from the environment variable its field names."""
        spec = next(spec for spec in self.fields if spec.name == name)
        return self.config.get(name) or (os.environ.get(spec.env, "") if spec.env else "")

    def secret_required(self, name: str, *, what: str) -> str:
        """Like ``secret``, but a missing credential fails the run permanently, saying where to put it."""
        value = self.secret(name)
        if not value:
            spec = next(spec for spec in self.fields if spec.name == name)
            raise FetchError(
                f"Source '{self.source.name}' has no {what} (config '{name}' or {spec.env})", permanent=True
            )
        return value

    def collect(self) -> CollectOutcome:
        raise NotImplementedError


@dataclass
class CollectOutcome:
    """What one collection found. ``errors`` are partial failures (one bad feed out of several) that did not
    stop the run; ``not_modified`` means a conditional GET answered 304 and nothing was parsed."""

    drafts: list[ItemDraft] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # stored on the run: per-URL status and counts
    feed_states: list[Any] = field(default_factory=list)  # rss FeedResults whose validators the service stores
    unreadable: int = 0  # records the collector could not read at all (a file's bad lines): counted as skipped


def epoch_to_datetime(value: Any, *, milliseconds: bool = False) -> datetime | None:
    try:
        seconds = float(value) / (1000 if milliseconds else 1)
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def iso_to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
