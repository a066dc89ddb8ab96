"""Registry data: models, their immutable versions, content-addressed artifacts, environment
specs and datasets."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.errors import Conflict
from registry.constants import ArtifactFormat, DatasetFormat, Task, VersionState


class RegisteredModel(models.Model):
    """A named model; its versions carry the artifacts."""

    name = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registered_models",
    )
    task = models.CharField(max_length=20, choices=Task.choices, default=Task.OTHER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Artifact(models.Model):
    """A stored model file; the sha256 names it, so identical bytes are stored once."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    format = models.CharField(max_length=20, choices=ArtifactFormat.choices)
    path = models.CharField(max_length=500, help_text="Relative to MODELGATE_ARTIFACT_ROOT.")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.format}:{self.sha256[:12]}"


class EnvironmentSpec(models.Model):
    """The runtime a version expects: versions, pinned base image, env vars, resource limits."""

    name = models.CharField(max_length=100, unique=True)
    python = models.CharField(max_length=20)
    tensorflow = models.CharField(max_length=20)
    cuda = models.CharField(max_length=20, blank=True)
    cudnn = models.CharField(max_length=20, blank=True)
    base_image = models.CharField(max_length=300)
    env_vars = models.JSONField(default=dict, blank=True)
    cpu_limit = models.FloatField(null=True, blank=True, help_text="CPU cores.")
    memory_limit = models.CharField(max_length=20, blank=True, help_text="e.g. 4Gi")
    gpu_count = models.PositiveSmallIntegerField(default=0)
    extra_packages = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """Uploaded features (and labels) used as a validation hold-out or a drift reference."""

    name = models.CharField(max_length=100)
    path = models.CharField(max_length=500, help_text="Relative to MODELGATE_DATASET_ROOT.")
    sha256 = models.CharField(max_length=64, db_index=True)
    format = models.CharField(max_length=10, choices=DatasetFormat.choices)
    schema = models.JSONField(help_text='{"features": [{"name", "dtype"}], "label": name|null}')
    row_count = models.PositiveIntegerField()
    size = models.BigIntegerField()
    column_kinds = models.JSONField(
        default=dict,
        blank=True,
        help_text='Declared drift kinds {column: "numeric"|"categorical"}; others are inferred.',
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.schema.get("features", [])]

    @property
    def label(self) -> str | None:
        return self.schema.get("label")


class ModelVersion(models.Model):
    """One immutable version of a model; only its state moves after creation."""

    MUTABLE_FIELDS = frozenset({"state"})

    model = models.ForeignKey(RegisteredModel, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    artifact = models.ForeignKey(Artifact, on_delete=models.PROTECT, related_name="versions")
    format = models.CharField(max_length=20, choices=ArtifactFormat.choices)
    signature = models.JSONField()
    framework = models.CharField(max_length=50)
    framework_version = models.CharField(max_length=100)
    training_metrics = models.JSONField(default=dict, blank=True)
    tags = models.JSONField(default=list, blank=True)
    source_commit = models.CharField(max_length=100, blank=True)
    run_url = models.URLField(max_length=500, blank=True)
    training_dataset = models.TextField(blank=True)
    environment = models.ForeignKey(
        EnvironmentSpec, null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    holdout_dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="holdout_for"
    )
    reference_dataset = models.ForeignKey(
        Dataset, null=True, blank=True, on_delete=models.PROTECT, related_name="reference_for"
    )
    state = models.CharField(
        max_length=20, choices=VersionState.choices, default=VersionState.REGISTERED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model__name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["model", "number"], name="unique_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.model.name} v{self.number}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        only_state = update_fields is not None and set(update_fields) <= self.MUTABLE_FIELDS
        if self.pk is not None and not only_state:
            self._refuse_changes()
        super().save(*args, **kwargs)

    def _refuse_changes(self) -> None:
        stored = ModelVersion.objects.filter(pk=self.pk).values().first()
        if stored is None:
            return
        changed = sorted(
            field.attname
            for field in self._meta.concrete_fields
            if field.name not in self.MUTABLE_FIELDS
            and field.attname in stored
            and stored[field.attname] != getattr(self, field.attname)
        )
        if changed:
            raise Conflict(
                f"model versions are immutable; only the state may change "
                f"(tried to change: {', '.join(changed)})",
                code="immutable",
            )


class ValidationStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ERROR = "error", "Error"


ACTIVE_VALIDATION_STATES = (ValidationStatus.QUEUED, ValidationStatus.RUNNING)


class ValidationPolicy(models.Model):
    """A model's validation thresholds (missing keys take the suite's defaults)."""

    model = models.OneToOneField(
        RegisteredModel, on_delete=models.CASCADE, related_name="validation_policy"
    )
    thresholds = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"validation policy of {self.model.name}"


class WorkerTask(models.Model):
    """What a gpu-queue task records about its run: who ran it, when, how often, how it ended.
    The heartbeat sweeper gives up on rows whose worker stopped beating."""

    active_states: tuple[str, ...] = ()

    error = models.TextField(blank=True)
    worker_host = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    @property
    def finished(self) -> bool:
        return self.status not in self.active_states


class ValidationRun(WorkerTask):
    """One run of the validation suite on a version: status, progress, per-check results, log."""

    version = models.ForeignKey(
        ModelVersion, on_delete=models.CASCADE, related_name="validation_runs"
    )
    environment = models.ForeignKey(
        EnvironmentSpec, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=ValidationStatus.choices, default=ValidationStatus.QUEUED
    )
    progress = models.FloatField(default=0.0, help_text="0..1")
    current_check = models.CharField(max_length=40, blank=True)
    policy = models.JSONField(default=dict, help_text="The thresholds this run applied.")
    checks = models.JSONField(default=list, help_text="[{check, passed, metrics, message}]")
    log = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    active_states = ACTIVE_VALIDATION_STATES

    def __str__(self) -> str:
        return f"validation #{self.pk} of {self.version}"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return (end - self.started_at).total_seconds()
