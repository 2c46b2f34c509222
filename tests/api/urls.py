"""The site's URLs plus two test-only API views: one that fails, one plain APIView with a rate_group."""

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from trendsite.urls import handler404, handler500  # noqa: F401
from trendsite.urls import urlpatterns as site_urlpatterns


class Boom(APIView):
    def get(self, request):
        raise RuntimeError("secret internals")


class Keyword(APIView):
    """Any DRF view that names its budget, as the search views do."""

    rate_group = "keyword"

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/test-boom/", Boom.as_view()),
    path("api/v1/test-keyword/", Keyword.as_view()),
    *site_urlpatterns,
]
