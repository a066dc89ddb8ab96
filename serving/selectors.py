"""Read paths of the serving app."""

from __future__ import annotations

from accounts.errors import NotFound
from serving.models import Deployment, DeploymentEvent


def deployment_list(*, model_name: str | None = None):
    qs = Deployment.objects.select_related("model").prefetch_related("variants__version")
    if model_name is not None:
        qs = qs.filter(model__name=model_name)
    return qs


def deployment_get(model_name: str, deployment_name: str) -> Deployment:
    deployment = deployment_list().filter(model__name=model_name, name=deployment_name).first()
    if deployment is None:
        raise NotFound(f"deployment {model_name}/{deployment_name} does not exist")
    return deployment


def deployment_events(deployment: Deployment):
    return (
        DeploymentEvent.objects.filter(deployment=deployment)
        .select_related("restored_event")
        .order_by("-created_at", "-id")
    )


def deployments_of_version(version) -> list[Deployment]:
    return list(
        Deployment.objects.filter(variants__version=version).select_related("model").distinct()
    )
