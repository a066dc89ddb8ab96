"""registry console pages (under /models/)."""

from django.urls import path

from registry import column_kinds_views, views

app_name = "registry"

urlpatterns = [
    path("", views.model_list, name="model-list"),
    path("register/", views.version_upload, name="version-upload"),
    path("environments/", views.environment_list, name="environment-list"),
    path("datasets/", views.dataset_list, name="dataset-list"),
    path(
        "datasets/<int:dataset_id>/columns/",
        column_kinds_views.dataset_columns,
        name="dataset-columns",
    ),
    path("<slug:name>/", views.model_detail, name="model-detail"),
    path("<slug:name>/v<int:number>/", views.version_detail, name="version-detail"),
]
