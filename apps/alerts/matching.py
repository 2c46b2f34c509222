"""Does a rule want an event? Every filter a rule sets must pass; an empty filter passes everything.

Trend filters (``states``, ``categories``, ``keywords``, ``min_score``) only pass trend events, so a rule
"viral technology trends" never fires on a failing source. ``sources`` passes trend events whose items come
from one of the sources, and source events about one of them.
"""

from __future__ import annotations

from apps.alerts.models import AlertRule
from apps.alerts.subjects import EventContext


def rule_matches(rule: AlertRule, context: EventContext) -> bool:
    """True when every filter of ``rule`` passes for the event in ``context``."""
    if rule.event_kinds and context.kind not in rule.event_kinds:
        return False
    has_trend_filter = rule.states or rule.categories or rule.keywords or rule.min_score
    if has_trend_filter and not context.is_trend:
        return False
    if rule.states and context.state not in rule.states:
        return False
    if rule.categories and (context.category or "").lower() not in {c.lower() for c in rule.categories}:
        return False
    if rule.keywords and not any(str(word).lower() in context.words for word in rule.keywords):
        return False
    if rule.min_score and (context.score is None or context.score < rule.min_score):
        return False
    return not (rule.sources and not (context.sources & set(rule.sources)))
