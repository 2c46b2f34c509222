"""Filter backends shared by the API's views."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` with only the view's ``ordering_fields``; an unknown field is a 400, not ignored."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
            unknown = [field for field in fields if field.lstrip("-") not in allowed]
            if unknown:
                choices = ", ".join(sorted(allowed))
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Cannot order by {', '.join(unknown)}; choose from {choices} ('-' first for descending)."
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)


class _StrictBooleanField(forms.Field):
    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError(f"Enter true or false, not {str(value)[:40]!r}.")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """``true``/``false`` (or 1/0); anything else is a 400 instead of silently no filter."""

    field_class = _StrictBooleanField


class _UtcDateTimeField(IsoDateTimeField):
    """ISO 8601, converted to UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts."""

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(f"Time out of range: {str(value)[:40]!r}.") from None


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time (``2026-03-10T08:00:00Z``); a malformed or out-of-range one is a 400."""

    field_class = _UtcDateTimeField
