from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from apps.core import views as core_views
from apps.core.admin_login import admin_login

admin.site.site_header = "trendsite operations"
admin.site.site_title = "trendsite"
admin.site.index_title = "Console"

# Each app registers its ViewSets on this one router (apps/<app>/api.py: register(router)).
router = DefaultRouter()

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Before admin.site.urls, so the admin's login (and every redirect to it) goes through the throttle.
    path("admin/login/", admin_login, name="admin-login-throttled"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]
