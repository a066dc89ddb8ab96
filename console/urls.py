"""The composition root's URL map: console pages, the management API, the wire protocols."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from accounts import views as accounts_views
from console import views
from monitoring import metrics_endpoint

api_v1 = [
    path("", include("accounts.api_urls")),
    path("", include("registry.api_urls")),
    path("", include("serving.api_urls")),
    path("", include("jobs.api_urls")),
    path("", include("monitoring.api_urls")),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("accounts/login/", accounts_views.LoginView.as_view(), name="login"),
    path("accounts/", include("accounts.urls")),
    path("models/", include("registry.urls")),
    path("deployments/", include("serving.urls")),
    path("deployments/", include("jobs.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("metrics", metrics_endpoint.metrics, name="metrics"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
    path("", include("serving.protocol_urls")),
]
