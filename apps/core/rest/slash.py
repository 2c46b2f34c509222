"""/api/ paths work without their trailing slash: served as if it were there, never redirected."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from apps.core.rest.errors import API_PREFIX


class ApiOptionalSlashMiddleware:
    """APPEND_SLASH answers ``POST /api/v1/sources/wire/collect`` with a redirect (the body is lost; under
    DEBUG a 500). An API path that only resolves with a slash is served as that path instead."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith(API_PREFIX) and not path.endswith("/"):
            try:
                resolve(path)
            except Resolver404:
                try:
                    resolve(path + "/")
                except Resolver404:
                    pass
                else:
                    request.path_info, request.path = path + "/", request.path + "/"
        return self.get_response(request)
