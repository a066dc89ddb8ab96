"""Console pages of deployments (under /deployments/)."""

from django.urls import path

from serving import traffic_views, views

app_name = "serving"

urlpatterns = [
    path("", views.deployment_list, name="deployment-list"),
    path("<str:model>/<slug:deployment>/", views.deployment_detail, name="deployment-detail"),
    path("<str:model>/<slug:deployment>/rollback", views.rollback, name="deployment-rollback"),
    path("<str:model>/<slug:deployment>/configure", views.configure, name="deployment-configure"),
    path(
        "<str:model>/<slug:deployment>/rollout",
        views.deployment_rollout,
        name="deployment-rollout",
    ),
    path("deploy/<str:model>/v<int:number>", views.deploy_version, name="version-deploy"),
    path("create/<str:model>", views.deployment_create, name="deployment-create"),
    path(
        "<str:model>/<slug:deployment>/traffic",
        traffic_views.set_traffic,
        name="deployment-traffic",
    ),
]
