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

    MUTABLE_FIELDS = frozenset({"state", "state_reason"})

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
    # Why the version reached its state, in words a refusal can quote: the deploy gate reads
    # only state and reason, never the validation runs behind them (those live in jobs).
    state_reason = models.CharField(max_length=300, blank=True)
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
