"""Feature switches operators flip in the admin (django-waffle switches).

A switch nobody has created yet is on (``WAFFLE_SWITCH_DEFAULT``) and is created on first use
(``WAFFLE_CREATE_MISSING_SWITCHES``), so every switch the code consults shows up in the admin.
"""

from __future__ import annotations

from collections.abc import Iterable

from waffle import switch_is_active
from waffle.models import Switch

# The switches the product consults; `collect.<kind>` exists for every source kind.
ALERTS_EMAIL = "alerts.email"
ALERTS_SLACK = "alerts.slack"
ALERTS_WEBHOOK = "alerts.webhook"
ALERTS_APPRISE = "alerts.apprise"
DIGESTS = "digests"
SEARCH_SEMANTIC = "search.semantic"
# The switches every installation has; `sync_switches` adds `collect.<kind>` for each registered kind.
PRODUCT_SWITCHES = (ALERTS_EMAIL, ALERTS_SLACK, ALERTS_WEBHOOK, ALERTS_APPRISE, DIGESTS, SEARCH_SEMANTIC)


def collect_switch(kind: str) -> str:
    """The switch that allows collecting from sources of ``kind``."""
    return f"collect.{kind}"


def switch_on(name: str) -> bool:
    """True unless an operator switched ``name`` off."""
    return switch_is_active(name)


def switches_seed(*, names: Iterable[str]) -> list[str]:
    """Create the switches among ``names`` that do not exist yet, on; the names created.

    An existing switch keeps the state an operator gave it.
    """
    existing = set(Switch.objects.filter(name__in=list(names)).values_list("name", flat=True))
    missing = [name for name in dict.fromkeys(names) if name not in existing]
    Switch.objects.bulk_create([Switch(name=name, active=True) for name in missing], ignore_conflicts=True)
    return missing


def switch_set(*, name: str, active: bool) -> Switch:
    """Turn the switch ``name`` on or off (creating it); waffle's cache follows on save."""
    switch, _ = Switch.objects.get_or_create(name=name, defaults={"active": active})
    if switch.active != active:
        switch.active = active
        switch.save()
    return switch
