"""A rule's filters checked before they are stored: known event kinds and states, lists of short strings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from apps.core.models import Event
from apps.trends.models import Trend

if TYPE_CHECKING:
    from apps.alerts.models import AlertRule

MAX_ENTRIES = 100
KNOWN_VALUES = {"event_kinds": tuple(Event.Kind.values), "states": tuple(Trend.State.values)}


def rule_filters_problems(rule: AlertRule) -> dict[str, list[str]]:
    """Field -> one-line problems, e.g. {"states": ["'states' has an unknown value 'hot' (known: emerging, …)"]}."""
    problems: dict[str, list[str]] = {}
    for name in ("event_kinds", "states", "categories", "keywords", "sources"):
        value = getattr(rule, name)
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in value):
            problems[name] = [f"'{name}' must be a list of non-empty strings, got {value!r}"[:200]]
        elif len(value) > MAX_ENTRIES:
            problems[name] = [f"'{name}' takes at most {MAX_ENTRIES} entries, got {len(value)}"]
        elif name in KNOWN_VALUES and (unknown := [v for v in value if v not in KNOWN_VALUES[name]]):
            known = ", ".join(KNOWN_VALUES[name])
            problems[name] = [f"'{name}' has an unknown value {unknown[0]!r} (known: {known})"]
    if rule.min_score is not None and rule.min_score < 0:
        problems["min_score"] = [f"'min_score' must be 0 or more, got {rule.min_score}"]
    return problems
