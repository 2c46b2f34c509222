"""One error shape for every API error: ``{"error", "detail", "code", "fields"?}``.

``error`` is a short title for the status, ``detail`` the message a person reads, ``code`` a stable
upper-case token a program switches on, and ``fields`` (validation errors only) the messages per field.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from apps.core.outage import ServiceDown

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
TITLES = {
    400: "Invalid request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    415: "Unsupported media type",
    429: "Rate limit exceeded",
    500: "Server error",
    503: "Service unavailable",
}
# DRF's codes renamed where ours say more; everything else is DRF's code upper-cased.
CODES = {"invalid": "VALIDATION_ERROR", "throttled": "RATE_LIMIT_EXCEEDED", "error": "SERVER_ERROR"}


class Conflict(exceptions.APIException):
    """The request is valid but the resource's state forbids it (cancel a finished run)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's current state does not allow this."
    default_code = "conflict"


class ServiceUnavailable(exceptions.APIException):
    """A shared service the request needs (the broker, the cache) is down."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service this request needs is down; try again later."
    default_code = "service_unavailable"


def error_body(*, status_code: int, detail: str, code: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": TITLES.get(status_code, "Error"), "detail": detail, "code": code}
    if fields:
        body["fields"] = fields
    return body


def _first_message(fields: Any) -> str:
    """The first message in a nested error structure, prefixed with its field: a one-line ``detail``."""
    if isinstance(fields, dict):
        for key, value in fields.items():
            message = _first_message(value)
            if message:
                return message if key in ("non_field_errors", "detail") else f"{key}: {message}"
    elif isinstance(fields, list):
        for value in fields:
            message = _first_message(value)
            if message:
                return message
    elif fields:
        return str(fields)
    return ""


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every handled error in the one shape. Unhandled ones propagate (500 handler)."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ServiceDown):  # the broker or the cache: say which, and that trying later helps
        exc = ServiceUnavailable(f"{exc}; try again later.")
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(int(exc.wait), 1))

    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = error_body(
            status_code=exc.status_code,
            detail=_first_message(fields) or "Invalid input.",
            code=CODES["invalid"],
            fields=fields,
        )
    else:
        raw_code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(
            status_code=exc.status_code,
            detail=_first_message(exc.detail) or str(exc.default_detail),
            code=CODES.get(raw_code, raw_code.upper()),
        )
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: JSON in the API's shape under /api/, Django's page elsewhere."""
    if _is_api(request):
        body = error_body(status_code=404, detail=f"No API endpoint at {request.path}.", code="NOT_FOUND")
        return JsonResponse(body, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON in the API's shape under /api/ (never a traceback), Django's page elsewhere."""
    if _is_api(request):
        body = error_body(
            status_code=500,
            detail="The server failed to answer this request; it has been logged.",
            code="SERVER_ERROR",
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
