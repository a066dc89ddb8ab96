"""Read paths of the serving app."""

from __future__ import annotations

from django.db.models import Max

from core.errors import NotFound
from serving.models import Deployment, DeploymentEvent


def deployment_list(*, model_name: str | None = None, include_archived: bool = False):
    qs = Deployment.objects.select_related("model").prefetch_related("variants__version")
    if model_name is not None:
        qs = qs.filter(model__name=model_name)
    if not include_archived:
        qs = qs.filter(archived_at__isnull=True)
    return qs


def deployment_list_with_last_change(**filters):
    """`deployment_list` with `last_change_at`: when its latest event (deploy, traffic change,
    rollback) happened; the row's own `updated_at` moves only when its config is edited."""
    return deployment_list(**filters).annotate(last_change_at=Max("events__created_at"))


def deployment_names(model) -> list[str]:
    """The live deployments of a model, for the deploy picker."""
    return list(
        Deployment.objects.filter(model=model, archived_at__isnull=True)
        .order_by("name")
        .values_list("name", flat=True)
    )


def deployment_get(model_name: str, deployment_name: str) -> Deployment:
    """A deployment by name, archived ones included (their history stays readable)."""
    deployment = (
        deployment_list(include_archived=True)
        .filter(model__name=model_name, name=deployment_name)
        .first()
    )
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
