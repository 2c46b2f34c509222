"""Engagement counts in ``Item.metrics`` stored as JSON numbers, so ranking and analytics read them without casts.

Collectors hand over what the source wrote: HN and Reddit give integers, CSV imports give text ("1,234",
"2.5K", "200,000+"). The count keys below are parsed into numbers at ingest; a value that is not a number
stays as the text it was (nothing stored is lost) and is reported by key.
"""

from __future__ import annotations

import math
import re
from typing import Any

COUNT_KEYS = frozenset(
    {
        "points",
        "score",
        "comments",
        "num_comments",
        "views",
        "likes",
        "shares",
        "retweets",
        "replies",
        "quotes",
        "upvotes",
        "downvotes",
        "favorites",
        "bookmarks",
        "reactions",
        "approx_traffic",
    }
)
# "1234", "1,234", "1 234", "1_234", "12.5", "2.5K", "3M+", "-4"; a comma is a thousands separator only in
# groups of three, so "1,5" (a decimal comma) is not guessed at.
_NUMBER = re.compile(
    r"^(?P<sign>[-+]?)(?P<int>\d{1,3}(?:[,\s_\u00a0\u202f']\d{3})+|\d+)(?P<frac>\.\d+)?\s*(?P<unit>[kmb]?)\+?$",
    re.IGNORECASE,
)
_UNITS = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}


def count_parse(value: Any) -> int | float | None:
    """``value`` as a number, or None when it is not one (booleans, NaN and text that is not a count)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, str):
        return None
    match = _NUMBER.match(value.strip())
    if not match:
        return None
    digits = re.sub(r"\D", "", match["int"])
    number = float(f"{digits}{match['frac'] or ''}") * _UNITS[match["unit"].lower()]
    number = -number if match["sign"] == "-" else number
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def metrics_numeric(metrics: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The metrics with every count key as a number, and the keys whose value could not be parsed (kept)."""
    if not isinstance(metrics, dict):
        return {}, []
    parsed, unparsed = dict(metrics), []
    for key, value in metrics.items():
        if key not in COUNT_KEYS or value is None or value == "":
            continue
        number = count_parse(value)
        if number is None:
            unparsed.append(key)
        else:
            parsed[key] = number
    return parsed, unparsed
