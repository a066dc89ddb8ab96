"""Work for the gpu-queue workers: validation runs and their policies, batch jobs, and the
workers' heartbeats, with the lifecycle every such task shares (WorkerTask).

These models moved here from registry and serving; their tables kept their names (each Meta
says db_table), so the move changed Django's state only (migrations jobs 0001, registry 0004,
serving 0004)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


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
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="validation_policy"
    )
    thresholds = models.JSONField(default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "registry_validationpolicy"

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
        "registry.ModelVersion", on_delete=models.CASCADE, related_name="validation_runs"
    )
    environment = models.ForeignKey(
        "registry.EnvironmentSpec",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
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

    class Meta(WorkerTask.Meta):
        db_table = "registry_validationrun"

    def __str__(self) -> str:
        return f"validation #{self.pk} of {self.version}"

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or self.heartbeat_at or self.started_at
        return (end - self.started_at).total_seconds()


class BatchJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    ERROR = "error", "Error"


ACTIVE_JOB_STATES = (BatchJobStatus.QUEUED, BatchJobStatus.RUNNING)


class BatchJob(WorkerTask):
    """Offline scoring of a dataset by a version on a gpu worker; predictions kept as files."""

    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="batch_jobs"
    )
    dataset = models.ForeignKey(
        "registry.Dataset", on_delete=models.PROTECT, related_name="batch_jobs"
    )
    status = models.CharField(
        max_length=10, choices=BatchJobStatus.choices, default=BatchJobStatus.QUEUED
    )
    batch_size = models.PositiveIntegerField(
        default=4096, validators=[MinValueValidator(1), MaxValueValidator(65536)]
    )
    rows_total = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    rows_per_second = models.FloatField(default=0.0)
    cancel_requested = models.BooleanField(default=False)
    result_dir = models.CharField(max_length=500, blank=True, help_text="Under the artifact root.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    active_states = ACTIVE_JOB_STATES

    class Meta(WorkerTask.Meta):
        db_table = "serving_batchjob"

    def __str__(self) -> str:
        return f"batch job #{self.pk} ({self.version} on dataset #{self.dataset_id})"

    @property
    def eta_seconds(self) -> float | None:
        if self.status != BatchJobStatus.RUNNING or self.rows_per_second <= 0:
            return None
        return max(self.rows_total - self.rows_done, 0) / self.rows_per_second

    @property
    def percent(self) -> float:
        return 100.0 * self.rows_done / self.rows_total if self.rows_total else 0.0


class WorkerHeartbeat(models.Model):
    """The latest report of one Celery worker: where it runs, on what, and what it is doing."""

    hostname = models.CharField(max_length=255, unique=True)
    pid = models.PositiveIntegerField(default=0)
    queues = models.JSONField(default=list)
    device = models.CharField(max_length=40, blank=True)
    gpu = models.JSONField(null=True, blank=True, help_text="NVML facts; null on CPU workers.")
    cpu_percent = models.FloatField(null=True, blank=True)
    memory = models.JSONField(default=dict, blank=True)
    runtime = models.JSONField(default=dict, blank=True)
    current_task = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["hostname"]
        db_table = "serving_workerheartbeat"

    def __str__(self) -> str:
        return self.hostname
