"""Names of the registry's choices and its limits."""

from __future__ import annotations

import re

from django.db import models


class Task(models.TextChoices):
    CLASSIFICATION = "classification", "Classification"
    REGRESSION = "regression", "Regression"
    OTHER = "other", "Other"


class ArtifactFormat(models.TextChoices):
    SAVEDMODEL = "savedmodel", "SavedModel"
    KERAS = "keras", "Keras"


class VersionState(models.TextChoices):
    REGISTERED = "registered", "Registered"
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    REJECTED = "rejected", "Rejected"
    ARCHIVED = "archived", "Archived"


class DatasetFormat(models.TextChoices):
    NPZ = "npz", "NumPy .npz"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


# Legal state moves; any state may also move to archived (checked in the service).
VERSION_TRANSITIONS: dict[str, frozenset[str]] = {
    VersionState.REGISTERED: frozenset({VersionState.VALIDATING}),
    VersionState.VALIDATING: frozenset({VersionState.VALIDATED, VersionState.REJECTED}),
    # A validated version whose next run fails is rejected: its state is its latest verdict.
    VersionState.VALIDATED: frozenset({VersionState.REJECTED}),
    # Validated again once its validation policy changed (jobs/validation/runs.py).
    VersionState.REJECTED: frozenset({VersionState.VALIDATING}),
    VersionState.ARCHIVED: frozenset(),
}

# Same alphabet as the `predict:<model>` key scope, so every model can be named in a scope.
MODEL_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
ENVIRONMENT_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# `registry/image[:tag]@sha256:<64 hex>`: a tag alone can move, a digest cannot.
BASE_IMAGE_RE = re.compile(
    r"^(?P<name>[a-z0-9]+(?:[._/:-][a-z0-9]+)*)(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"@sha256:[0-9a-f]{64}$"
)
VERSION_RE = re.compile(r"^\d+(\.\d+){0,3}$")
MEMORY_LIMIT_RE = re.compile(r"^[1-9]\d*(Ki|Mi|Gi|Ti|K|M|G|T)?$")
ENV_VAR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
