"""Rate limits per group with django-ratelimit on the Redis cache, as a DRF throttle.

A view names its budget with a ``rate_group`` attribute ("semantic", "keyword", ...); without one, safe
requests spend the "read" budget and writes or staff-only views the "staff" one. Limits come from
``settings.API_RATE_LIMITS``. Each caller has a budget per group: the user when logged in, else the client
address (``client_address_key``: an IPv6 client counts as its /64). Every answer carries
``X-RateLimit-Limit/Remaining/Reset`` (set here on the Django request and copied onto the response by
``RateLimitHeadersMiddleware``); over the limit DRF raises ``Throttled`` and the error handler answers 429
with ``Retry-After``.

When Redis does not answer or refuses the write (down, or full), requests pass (fail open) and a warning is
logged: a cache outage must not take the read API down with it, and /readyz reports the cache as failed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle

from apps.core.client_address import client_address_key
from apps.core.rest.permissions import IsStaff

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

HEADERS_ATTR = "ratelimit_headers"


def _caller_key(group: str, request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_address_key(request)}"


def view_rate_group(request: Request, view: APIView) -> str:
    """The budget a request spends: the view's ``rate_group``, else "staff" for writes and staff-only views,
    else "read"."""
    group = getattr(view, "rate_group", None)
    if group:
        return group
    if request.method not in SAFE_METHODS:
        return "staff"
    if any(isinstance(permission, IsStaff) for permission in view.get_permissions()):
        return "staff"
    return "read"


class RateGroupThrottle(BaseThrottle):
    """DEFAULT_THROTTLE_CLASSES entry: counts the request against its group and remembers the headers."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def allow_request(self, request: Request, view: APIView) -> bool:
        group = view_rate_group(request, view)
        rate = settings.API_RATE_LIMITS.get(group)
        if not rate:
            return True
        django_request = request._request
        # The key reads the user DRF authenticated (token or session), not only the session's.
        django_request.user = request.user
        try:
            usage = get_usage(
                django_request, group=f"api:{group}", key=_caller_key, rate=rate, method=get_usage.ALL, increment=True
            )
        except Exception:
            logger.warning("rate limit not applied: cache unavailable (group %s)", group, exc_info=True)
            return True
        if usage is None:
            return True
        time_left = max(int(usage["time_left"]), 1)
        remaining = max(usage["limit"] - usage["count"], 0)
        setattr(
            django_request,
            HEADERS_ATTR,
            {
                "X-RateLimit-Limit": str(usage["limit"]),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(time.time()) + time_left),
            },
        )
        if usage["should_limit"]:
            self.retry_after = time_left
            return False
        return True

    def wait(self) -> float | None:
        return self.retry_after


class RateLimitHeadersMiddleware:
    """Copies the X-RateLimit-* headers a throttle computed onto the response (429 or not)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in getattr(request, HEADERS_ATTR, {}).items():
            response.setdefault(name, value)
        return response
