"""The admin login, throttled per client address and per username (django-ratelimit on the shared cache).

Every POST counts, so guessing passwords is slow whether one address tries many names or many addresses try
one name. A throttled attempt gets 429 with a page that says when to try again, and is not checked at all.
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _username(group: str, request: HttpRequest) -> str:
    return request.POST.get("username", "").strip().lower()


def _period_seconds(rate: str) -> int:
    match = _RATE.match(rate)
    if not match:
        return 60
    return int(match.group(2) or 1) * _UNIT_SECONDS[match.group(3)]


def admin_login_throttled(*, request: HttpRequest) -> bool:
    """Count this login attempt and say whether its address or its username is over ``ADMIN_LOGIN_RATE``.

    With the cache down it answers False (and logs): operators must still be able to log in to see why.
    """
    rate = settings.ADMIN_LOGIN_RATE
    try:
        # Both counters are incremented: a throttled address must not spare the username's count.
        limited = [
            is_ratelimited(request, group=f"admin-login-{name}", key=key, rate=rate, method="POST", increment=True)
            for name, key in (("ip", "ip"), ("username", _username))
        ]
    except Exception:  # the cache is down: fail open, loudly
        logger.warning("admin login throttle unavailable (cache error); attempt not counted", exc_info=True)
        return False
    return any(limited)


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's own login view behind the throttle."""
    if request.method == "POST" and admin_login_throttled(request=request):
        seconds = _period_seconds(settings.ADMIN_LOGIN_RATE)
        response = TemplateResponse(
            request,
            "admin/login_throttled.html",
            {**admin.site.each_context(request), "title": "Too many login attempts", "retry_after": seconds},
            status=429,
        )
        response["Retry-After"] = str(seconds)
        return response
    return admin.site.login(request, extra_context)
