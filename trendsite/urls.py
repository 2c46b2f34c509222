from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.analytics.metrics_view import metrics
from apps.core import views as core_views
from apps.core.admin_login import admin_login
from apps.core.rest.routes import api_router

admin.site.site_header = "trendsite operations"
admin.site.site_title = "trendsite"
admin.site.index_title = "Console"

# Each app registers its ViewSets on this one router (apps/<app>/api.py: register(router)).
router = api_router()

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Before admin.site.urls, so the admin's login (and every redirect to it) goes through the throttle.
    path("admin/login/", admin_login, name="admin-login-throttled"),
    path("admin/", admin.site.urls),
    path("api/v1/search/", include("apps.trends.api_search")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

# JSON in the API's error shape under /api/, Django's pages elsewhere.
handler404 = "apps.core.rest.errors.page_not_found"
handler500 = "apps.core.rest.errors.server_error"
