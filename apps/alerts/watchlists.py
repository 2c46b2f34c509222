"""A user's watchlists and channels, checked before they are stored: what the API and the admin share."""

from __future__ import annotations

from typing import Any

from apps.alerts.rule_filters import MAX_ENTRIES
from apps.alerts.watch_query import keywords_tsqueries

LIST_FIELDS = ("keywords", "categories", "sources", "languages", "mute")


def watchlist_problems(*, values: dict[str, Any]) -> dict[str, list[str]]:
    """Field -> one-line problems, e.g. {"keywords": ["'keywords' entry 'the' has no searchable word"]}."""
    problems: dict[str, list[str]] = {}
    for name in LIST_FIELDS:
        value = values.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v.strip()) <= 200 for v in value):
            problems[name] = [f"'{name}' must be a list of non-empty strings, got {value!r}"[:200]]
        elif len(value) > MAX_ENTRIES:
            problems[name] = [f"'{name}' takes at most {MAX_ENTRIES} entries, got {len(value)}"]
        elif name in ("keywords", "mute"):
            # A keyword of stop words only ("the") parses to nothing and would never match: say so now.
            empty = [term for term, query in zip(value, keywords_tsqueries(value), strict=True) if not query]
            if empty:
                problems[name] = [f"'{name}' entry {empty[0]!r} has no searchable word (stop words only)"]
    min_score = values.get("min_score")
    if min_score is not None and min_score < 0:
        problems["min_score"] = [f"'min_score' must be 0 or more, got {min_score}"]
    return problems


def channel_owner_problem(*, user: Any, kind: str, config: dict[str, Any]) -> str:
    """Why a user may not keep this personal channel, or "": email goes to the owner's own address only, so
    a signed-in user cannot make trendsite mail strangers."""
    if kind == "email" and not user.is_staff:
        others = [a for a in config.get("to", []) if str(a).lower() != (user.email or "").lower()]
        if others:
            own = user.email or "none set on your account"
            return f"'to' may only hold your own address ({own}), got {others[0]!r}"
    return ""
