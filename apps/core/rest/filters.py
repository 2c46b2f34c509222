"""Filter backends shared by the API's views."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
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
