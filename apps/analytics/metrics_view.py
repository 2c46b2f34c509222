"""``/metrics``: every process's counters on this host plus the state gauges, in the Prometheus text format.

Guarded, never public: ``Authorization: Bearer <METRICS_TOKEN>`` or a staff session. With no token set the page
answers 404 to all but staff, so a deployment that never configured Prometheus does not even show it exists.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from apps.analytics.metrics_state import STATE_COLLECTOR


def _bearer_ok(request: HttpRequest, token: str) -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_page() -> bytes:
    """The exposition text: the multiprocess files of this host's processes and the state gauges."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(STATE_COLLECTOR)
    return generate_latest(registry)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    staff = request.user.is_authenticated and request.user.is_staff
    if not staff and not (token and _bearer_ok(request, token)):
        if not token:
            return HttpResponseNotFound("Not found", content_type="text/plain")
        response = HttpResponse("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain"
        return response
    return HttpResponse(metrics_page(), content_type=CONTENT_TYPE_LATEST)
