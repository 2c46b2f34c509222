"""The admin login, throttled per client address and per (username, address) (django-ratelimit on the cache).

Every POST counts, so one address guessing many names, or one name, is slow; a name is never locked for
everyone: its owner logging in from another address has a budget of their own. Addresses are counted as
``client_address_key`` does for the API (an IPv6 client as its /64). A throttled attempt gets 429 with a page
that says when to try again, and is not checked at all.

When the cache cannot count (down, or full and refusing writes) the throttle fails closed to a per-process
limit of the same rate: each web process counts attempts in its own memory, so guessing stays slow (by the
number of processes) and operators can still log in to see what is wrong.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_ratelimit.core import is_ratelimited

from apps.core.client_address import client_address_key
from apps.core.local_rate import LocalRateLimiter, rate_parse

logger = logging.getLogger(__name__)

_local_limiter = LocalRateLimiter()


def _username(request: HttpRequest) -> str:
    return request.POST.get("username", "").strip().lower()


def _address_key(group: str, request: HttpRequest) -> str:
    return client_address_key(request)


def _username_address_key(group: str, request: HttpRequest) -> str:
    return f"{_username(request)}\n{client_address_key(request)}"


_KEYS = (("ip", _address_key), ("user-ip", _username_address_key))


def admin_login_throttled(*, request: HttpRequest) -> bool:
    """Count this login attempt and say whether its address, or its username from this address, is over
    ``ADMIN_LOGIN_RATE``. Without the cache the per-process fallback counts instead (logged)."""
    rate = settings.ADMIN_LOGIN_RATE
    try:
        # Both counters are incremented: a throttled address must not spare the (username, address) count.
        limited = [
            is_ratelimited(request, group=f"admin-login-{name}", key=key, rate=rate, method="POST", increment=True)
            for name, key in _KEYS
        ]
    except Exception:
        logger.warning("admin login throttle: cache unavailable, counting in this process instead", exc_info=True)
        limited = [_local_limiter.hit(f"{name}:{key('', request)}", rate=rate) for name, key in _KEYS]
    return any(limited)


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's own login view behind the throttle."""
    if request.method == "POST" and admin_login_throttled(request=request):
        seconds = rate_parse(settings.ADMIN_LOGIN_RATE)[1]
        response = TemplateResponse(
            request,
            "admin/login_throttled.html",
            {**admin.site.each_context(request), "title": "Too many login attempts", "retry_after": seconds},
            status=429,
        )
        response["Retry-After"] = str(seconds)
        return response
    return admin.site.login(request, extra_context)
