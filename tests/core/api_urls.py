"""The core app's API on a router of its own (the project URLconf discovers every app's api module)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from apps.core.api import register

router = DefaultRouter()
register(router)
urlpatterns = [path("api/v1/", include(router.urls))]
