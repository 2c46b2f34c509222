"""Feature switches operators flip in the admin (django-waffle switches).

A switch nobody has created yet is on (``WAFFLE_SWITCH_DEFAULT``) and is created on first use
(``WAFFLE_CREATE_MISSING_SWITCHES``), so every switch the code consults shows up in the admin.
"""

from __future__ import annotations

from waffle import switch_is_active

# The switches the product consults; `collect.<kind>` exists for every source kind.
ALERTS_EMAIL = "alerts.email"
ALERTS_SLACK = "alerts.slack"
ALERTS_WEBHOOK = "alerts.webhook"
DIGESTS = "digests"
SEARCH_SEMANTIC = "search.semantic"


def collect_switch(kind: str) -> str:
    """The switch that allows collecting from sources of ``kind``."""
    return f"collect.{kind}"


def switch_on(name: str) -> bool:
    """True unless an operator switched ``name`` off."""
    return switch_is_active(name)
