from dataclasses import asdict
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from apps.core.health import system_check_readiness

_PROBE_METHODS = ["GET", "HEAD", "OPTIONS"]


def _options() -> HttpResponse:
    return HttpResponse(headers={"Allow": ", ".join(_PROBE_METHODS)})


@never_cache
@require_http_methods(_PROBE_METHODS)
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. No I/O, so a slow database never restarts healthy web workers."""
    if request.method == "OPTIONS":
        return _options()
    return JsonResponse({"status": "ok"})


@never_cache
@require_http_methods(_PROBE_METHODS)
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: 200 when database, cache and broker all answer, else 503 naming what failed.

    Anyone sees each check's name and whether it passed; only staff see latencies and error text, which
    can name hosts, ports and socket paths.
    """
    if request.method == "OPTIONS":
        return _options()
    results = system_check_readiness()
    failed = [r.name for r in results if not r.ok]
    staff = request.user.is_authenticated and request.user.is_staff
    checks = {r.name: {k: v for k, v in asdict(r).items() if k != "name"} if staff else {"ok": r.ok} for r in results}
    body = {"status": "ok" if not failed else "unavailable", "failed": failed, "checks": checks}
    return JsonResponse(body, status=503 if failed else 200)


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    return (settings.BASE_DIR / "static" / "favicon.ico").read_bytes()


@require_GET
@cache_control(max_age=7 * 24 * 3600, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for on every site whatever the page links: an icon, not a logged 404."""
    return HttpResponse(_favicon_bytes(), content_type="image/x-icon")
