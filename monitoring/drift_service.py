"""Drift runs: compare a recent window of a deployment's logged inputs with a reference (the
version's reference dataset, or its own traffic after the latest deploy), per version x variant;
write DriftReports and raise an alert when the dataset drifts."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import InvalidInput
from monitoring import drift
from monitoring.constants import AlertKind, ReferenceKind
from monitoring.models import (
    DRIFT_POLICY_FIELDS,
    Alert,
    DriftPolicy,
    DriftReport,
    PredictionLog,
)
from monitoring.policies import policy_get, policy_update
from registry.column_kinds import CATEGORICAL, NUMERIC, declared_feature_kinds
from registry.models import ModelVersion
from registry.selectors import dataset_inputs
from serving.constants import EventKind, VariantRole
from serving.models import Deployment

logger = logging.getLogger(__name__)

MAX_LOGS = 100_000  # newest logged requests read per window: plenty for the statistics
DEPLOY_KINDS = (EventKind.DEPLOYED, EventKind.TRAFFIC_CHANGED, EventKind.ROLLED_BACK)


def drift_policy_get(deployment: Deployment) -> DriftPolicy:
    """The deployment's drift policy, or an unsaved default one."""
    return policy_get(DriftPolicy, deployment)


@transaction.atomic
def drift_policy_update(*, deployment: Deployment, actor: Actor, changes: dict) -> DriftPolicy:
    """Change how and when a deployment's drift is judged; audited."""
    return policy_update(
        DriftPolicy,
        deployment=deployment,
        fields=DRIFT_POLICY_FIELDS,
        label="drift",
        action="drift_policy.update",
        changes=changes,
        actor=actor,
    )


# -- samples -----------------------------------------------------------------------------------
def feature_names(signature: dict) -> list[str]:
    """One name per scalar feature: `input` for a scalar input, `input[i]` for a tensor's
    flattened values (the column order of the matrices)."""
    names = []
    for spec in signature["inputs"]:
        dims = spec["shape"][1:]
        if any(d < 0 for d in dims):
            raise InvalidInput(
                f"input {spec['name']!r} has a variable shape; drift needs fixed ones"
            )
        width = int(np.prod(dims)) if dims else 1
        names.extend([f"{spec['name']}[{i}]" for i in range(width)] if dims else [spec["name"]])
    return names


def _matrix(feeds: dict, signature: dict) -> np.ndarray:
    """Model feeds ({input: rows x ...}) flattened to rows x features, in signature order."""
    blocks = []
    for spec in signature["inputs"]:
        values = np.asarray(feeds[spec["name"]], dtype=np.float64)
        blocks.append(values.reshape(values.shape[0], -1))
    return np.hstack(blocks) if blocks else np.empty((0, 0))


def _logged(filters: dict, signature: dict, since: datetime, until: datetime) -> np.ndarray:
    """Rows of the sampled inputs logged between two times (newest first, capped)."""
    payloads = (
        PredictionLog.objects.filter(ts__gte=since, ts__lt=until, status=200, **filters)
        .exclude(inputs__isnull=True)
        .order_by("-ts")
        .values_list("inputs", flat=True)[:MAX_LOGS]
    )
    width = len(feature_names(signature))
    blocks = []
    for inputs in payloads:
        try:
            block = _matrix(inputs, signature)
        except (KeyError, ValueError, TypeError):
            continue  # a payload logged under another signature: not comparable
        if block.shape[1] == width:
            blocks.append(block)
    return np.vstack(blocks) if blocks else np.empty((0, width))


def _reference(policy: DriftPolicy, version: ModelVersion, since: datetime):
    """(matrix, label) of the reference, or (None, why not). A traffic reference ends where the
    current window starts, so the two never share rows."""
    deployment = policy.deployment
    if policy.reference == ReferenceKind.DATASET:
        dataset = version.reference_dataset
        if dataset is None:
            return None, f"v{version.number} has no reference dataset"
        feeds, _ = dataset_inputs(dataset, version.signature)
        return _matrix(feeds, version.signature), f"dataset {dataset}"
    event = (
        deployment.events.filter(kind__in=DEPLOY_KINDS, created_at__lte=since)
        .order_by("-created_at", "-id")
        .first()
    )
    if event is None:
        return None, "no deploy before the current window to take traffic from"
    until = min(event.created_at + timedelta(hours=policy.reference_hours), since)
    matrix = _logged(
        {"deployment_id": deployment.pk, "version": version.number, "shadow": False},
        version.signature,
        event.created_at,
        until,
    )
    return matrix, f"traffic {event.created_at:%Y-%m-%d %H:%M} + {policy.reference_hours} h"


# -- the run -----------------------------------------------------------------------------------
def _groups(deployment: Deployment, since: datetime, until: datetime) -> list[tuple[int, str]]:
    """The version x variant pairs that served (with sampled inputs) in the window."""
    rows = (
        PredictionLog.objects.filter(
            deployment_id=deployment.pk, ts__gte=since, ts__lt=until, shadow=False
        )
        .exclude(inputs__isnull=True)
        .values_list("version", "variant")
        .distinct()
    )
    return sorted(set(rows))


def _judge(policy, version, variant, since, now) -> dict:
    """The fields of one DriftReport: the verdict, or why nothing was compared."""
    deployment = policy.deployment
    fields = {
        "deployment": deployment,
        "version": version.number,
        "variant": variant,
        "method": policy.method,
        "reference_kind": policy.reference,
        "window_start": since,
        "window_end": now,
        "share_threshold": policy.share_threshold,
    }
    reference, label = _reference(policy, version, since)
    fields["reference_label"] = label[:200]
    if reference is None:
        return {**fields, "skipped": label}
    current = _logged(
        {"deployment_id": deployment.pk, "version": version.number, "variant": variant},
        version.signature,
        since,
        now,
    )
    fields.update(n_reference=len(reference), n_current=len(current))
    if min(len(reference), len(current)) < policy.min_rows:
        return {
            **fields,
            "skipped": f"too few rows: {len(reference)} reference, {len(current)} current "
            f"(at least {policy.min_rows} each)",
        }
    names = feature_names(version.signature)
    declared = declared_feature_kinds(version.reference_dataset, version.signature)
    result = drift.dataset_drift(
        names,
        reference,
        current,
        method=policy.method,
        share_threshold=policy.share_threshold,
        categorical=frozenset(names[i] for i, k in declared.items() if k == CATEGORICAL),
        numeric=frozenset(names[i] for i, k in declared.items() if k == NUMERIC),
    )
    return {
        **fields,
        "features": [f.as_dict() for f in result.features],
        "share_drifted": result.share_drifted,
        "dataset_drift": result.dataset_drift,
    }


def drift_run(*, deployment: Deployment, actor: Actor | None = None, now=None) -> list[DriftReport]:
    """Judge every version x variant of a deployment that served in the policy's window; alert
    once (until resolved) when a dataset drifts. actor None: the scheduled check (not audited)."""
    actor = as_actor(actor).require("deploy", model=deployment.model.name, what="run drift")
    now = now or timezone.now()
    policy = drift_policy_get(deployment)
    since = now - timedelta(minutes=policy.window_minutes)
    versions = {v.number: v for v in deployment.model.versions.select_related("reference_dataset")}
    judged = [
        _judge(policy, versions[number], variant, since, now)
        for number, variant in _groups(deployment, since, now)
        if number in versions and variant != VariantRole.SHADOW
    ]
    label = actor.label
    with transaction.atomic():
        reports = [DriftReport.objects.create(actor_label=label, **fields) for fields in judged]
        drifted = [r for r in reports if r.dataset_drift]
        if (
            drifted
            and not Alert.objects.filter(
                deployment=deployment, kind=AlertKind.DRIFT, resolved_at__isnull=True
            ).exists()
        ):
            Alert.objects.create(
                deployment=deployment,
                kind=AlertKind.DRIFT,
                message="; ".join(
                    f"v{r.version} {r.variant}: {r.share_drifted:.0%} of features drifted "
                    f"({', '.join(f['name'] for f in r.features if f['drifted'])})"
                    for r in drifted
                ),
                metrics={"reports": [r.pk for r in drifted]},
            )
        if not actor.system:
            audit_record(
                actor=actor,
                action="drift.run",
                target=f"deployment:{deployment}",
                after={"reports": [r.pk for r in reports], "drifted": len(drifted)},
            )
    return reports


def drift_run_all(*, now=None) -> int:
    """The periodic run: every deployment whose policy is on (the default); returns reports."""
    count = 0
    deployments = Deployment.objects.select_related("model", "drift_policy").exclude(
        drift_policy__enabled=False
    )
    for deployment in deployments:
        try:
            count += len(drift_run(deployment=deployment, now=now))
        except Exception:  # one broken reference must not stop the others; the log says why
            logger.exception("drift run of %s failed", deployment)
    return count
