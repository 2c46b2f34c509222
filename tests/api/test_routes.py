"""Every app's api module registers on the one router; a view's budget comes from its rate_group."""

from __future__ import annotations

from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.core.rest.permissions import IsStaff
from apps.core.rest.routes import api_modules, api_router
from apps.core.rest.throttling import view_rate_group


def test_each_local_apps_api_module_is_found_and_registered():
    assert {"apps.core.api", "apps.trends.api", "apps.plugins.api"} <= set(api_modules())
    prefixes = {prefix for prefix, _, _ in api_router().registry}
    assert {"trends", "topics", "items", "categories", "sources", "pipeline-runs", "workflows", "cache/clear"} <= (
        prefixes
    )


class Plain(APIView):
    pass


class Semantic(APIView):
    rate_group = "semantic"


class StaffOnly(APIView):
    permission_classes = [IsStaff]


def test_rate_group_defaults():
    factory = APIRequestFactory()
    get, post = factory.get("/"), factory.post("/")
    assert view_rate_group(get, Plain()) == "read"
    assert view_rate_group(post, Plain()) == "staff"
    assert view_rate_group(get, StaffOnly()) == "staff"
    assert view_rate_group(get, Semantic()) == "semantic" and view_rate_group(post, Semantic()) == "semantic"
