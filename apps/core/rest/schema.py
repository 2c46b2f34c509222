"""OpenAPI: every operation also documents the error answers it can give, all in the one error shape."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from apps.core.rest.errors import TITLES

_RATE_HEADERS = {
    "Retry-After": "Seconds until the budget refills.",
    "X-RateLimit-Limit": "Requests allowed per window for this endpoint's group.",
    "X-RateLimit-Remaining": "Requests left in the current window.",
    "X-RateLimit-Reset": "Unix time (seconds) when the window ends.",
}


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer."""

    error = serializers.CharField(help_text="Short title of the status, e.g. 'Not found'.")
    detail = serializers.CharField(help_text="What went wrong and what to do, for a person.")
    code = serializers.CharField(help_text="Stable token for programs, e.g. VALIDATION_ERROR, RATE_LIMIT_EXCEEDED.")
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Validation errors only: the messages per field.",
    )


class ApiAutoSchema(AutoSchema):
    """Adds 400/401/403/404/429 (and 415 for bodies) to every operation unless it declares its own."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            if code.startswith("2"):
                response.setdefault("headers", {}).update(
                    {
                        name: {"schema": {"type": "integer"}, "description": text}
                        for name, text in _RATE_HEADERS.items()
                        if name != "Retry-After"
                    }
                )
        codes = ["400", "401", "403", "404", "429"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("415")
        for code in codes:
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = TITLES[int(code)]
                if code == "429":
                    response["headers"] = {
                        name: {"schema": {"type": "integer"}, "description": text}
                        for name, text in _RATE_HEADERS.items()
                    }
                responses[code] = response
        return responses
