"""Who may do what: reads are public (or need a login, API_READ_REQUIRES_AUTH); writes need staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS, BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def _is_staff(request: Request) -> bool:
    return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class ReadOrStaffWrite(BasePermission):
    """The default: safe methods for everyone (or every logged-in user), anything else for staff."""

    message = "Only staff may change this."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return not settings.API_READ_REQUIRES_AUTH or bool(request.user and request.user.is_authenticated)
        return _is_staff(request)


class IsStaff(BasePermission):
    """Staff endpoints, reads included (operators' views of the system)."""

    message = "Staff only."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return _is_staff(request)
