"""registry REST API routes (under /api/v1/)."""

from django.urls import path

from registry import api, column_kinds_views

urlpatterns = [
    path("models", api.ModelListApi.as_view(), name="api-model-list"),
    path("models/<slug:name>", api.ModelDetailApi.as_view(), name="api-model-detail"),
    path(
        "models/<slug:name>/versions",
        api.VersionListCreateApi.as_view(),
        name="api-version-list",
    ),
    path(
        "models/<slug:name>/versions/<int:number>",
        api.VersionDetailApi.as_view(),
        name="api-version-detail",
    ),
    path("environments", api.EnvironmentListCreateApi.as_view(), name="api-environment-list"),
    path(
        "environments/<str:name>",
        api.EnvironmentDetailApi.as_view(),
        name="api-environment-detail",
    ),
    path("datasets", api.DatasetListCreateApi.as_view(), name="api-dataset-list"),
    path("datasets/<int:dataset_id>", api.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path(
        "datasets/<int:dataset_id>/columns",
        column_kinds_views.DatasetColumnsApi.as_view(),
        name="api-dataset-columns",
    ),
]
