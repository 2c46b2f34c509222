"""Who is calling: the client address behind our proxies, and the budget key rate limits count it under.

One helper for every throttle (the API's and the admin login's), so a forged header or an IPv6 client
rotating through its /64 buys a fresh budget from neither.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# An IPv6 subscriber gets at least a /64 and can use any address in it: budgets count the whole prefix.
IPV6_BUDGET_PREFIX = 64


def client_address(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n > 0 the n-th address from the right
    of X-Forwarded-For (the one our outermost proxy saw). Addresses a client wrote further left are ignored,
    so a forged header cannot buy a fresh budget; a malformed or too-short header falls back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < proxies:
        return remote
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def client_address_key(request: HttpRequest) -> str:
    """The address a budget is counted under: an IPv4 address as it is (an IPv4-mapped IPv6 one unwrapped),
    an IPv6 address as its /64 network."""
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/{IPV6_BUDGET_PREFIX}", strict=False))
    return str(parsed)
