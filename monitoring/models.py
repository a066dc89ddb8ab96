"""Prediction log, rollups (per minute, hour and day), SLO policies and alerts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from monitoring.constants import (
    AlertKind,
    DriftMethod,
    ExperimentMetric,
    ExperimentStatus,
    ReferenceKind,
    Resolution,
)
from monitoring.histograms import N_BUCKETS

BUCKET_FIELDS = tuple(f"b{i}" for i in range(N_BUCKETS))
# What a MetricRollup sums besides its latency buckets (ingest writes them, selectors read them).
METRIC_COUNTERS = ("count", "errors", "latency_sum_ms", "batch_size_sum", "rows", "cache_hits")


class PredictionLog(models.Model):
    """One served request. A prediction id is `<request_id>-<row>`, so one row per request holds
    every row's id: a lookup splits off the row and hits the unique index on request_id."""

    request_id = models.CharField(max_length=64, unique=True)
    ts = models.DateTimeField(db_index=True)
    model = models.CharField(max_length=100)
    deployment = models.CharField(max_length=63, blank=True)
    deployment_id = models.IntegerField(default=0)
    version = models.IntegerField()
    version_id = models.IntegerField(default=0)
    variant = models.CharField(max_length=16, blank=True)
    key_prefix = models.CharField(max_length=16, blank=True)
    protocol = models.CharField(max_length=16, blank=True)
    status = models.PositiveSmallIntegerField()
    latency_ms = models.FloatField()
    rows = models.PositiveIntegerField(default=1)
    batch_size = models.PositiveIntegerField(default=1)
    cache_hit = models.BooleanField(default=False)
    shadow = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    inputs = models.JSONField(null=True, blank=True)
    outputs = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["deployment_id", "ts"], name="predlog_deployment_ts"),
            models.Index(fields=["key_prefix", "ts"], name="predlog_key_ts"),
        ]

    def __str__(self) -> str:
        return f"prediction {self.request_id}"


class _BucketCounts(models.Model):
    """Count, errors, sums and the latency histogram of one time bucket (see histograms.py)."""

    resolution = models.PositiveIntegerField(choices=Resolution.choices)
    bucket_start = models.DateTimeField()
    count = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    latency_sum_ms = models.FloatField(default=0.0)
    # One integer column per histogram bucket: the upsert adds them in SQL on every database,
    # where an array or JSON column would need engine-specific merging.
    for _name in BUCKET_FIELDS:
        locals()[_name] = models.BigIntegerField(default=0)
    del _name

    class Meta:
        abstract = True

    def buckets(self) -> list[int]:
        return [getattr(self, name) for name in BUCKET_FIELDS]


class MetricRollup(_BucketCounts):
    """Traffic of one deployment x version x variant within one minute, hour or day."""

    deployment_id = models.IntegerField()
    version = models.IntegerField()
    variant = models.CharField(max_length=16)
    batch_size_sum = models.BigIntegerField(default=0)
    rows = models.BigIntegerField(default=0)
    cache_hits = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment_id", "resolution", "bucket_start", "version", "variant"],
                name="unique_metric_rollup",
            )
        ]

    def __str__(self) -> str:
        return f"rollup d{self.deployment_id} v{self.version} {self.variant} {self.bucket_start}"


class KeyRollup(_BucketCounts):
    """Calls of one API key to one deployment with one status within one minute, hour or day."""

    key_prefix = models.CharField(max_length=16)
    model = models.CharField(max_length=100)
    deployment = models.CharField(max_length=63)
    status = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "key_prefix",
                    "resolution",
                    "bucket_start",
                    "model",
                    "deployment",
                    "status",
                ],
                name="unique_key_rollup",
            )
        ]

    def __str__(self) -> str:
        return f"key rollup {self.key_prefix} {self.bucket_start}"


class SloPolicy(models.Model):
    """A deployment's service-level objectives, automatic rollback switch and payload sampling."""

    deployment = models.OneToOneField(
        "serving.Deployment", on_delete=models.CASCADE, related_name="slo_policy"
    )
    p95_ms = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.01), MaxValueValidator(600_000)],
        help_text="Highest acceptable p95 latency in milliseconds (blank: not judged).",
    )
    error_rate_pct = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(100.0)],
        help_text="Highest acceptable error rate in percent (blank: not judged).",
    )
    min_requests = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1)],
        help_text="Requests the new version must have served before it is judged.",
    )
    auto_rollback = models.BooleanField(default=False)
    window_minutes = models.PositiveIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="How far back after a deploy the check looks.",
    )
    payload_sample_rate = models.FloatField(
        default=1.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of requests whose inputs and outputs are kept in the prediction log.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"SLO of {self.deployment}"

    def as_dict(self) -> dict:
        return {field: getattr(self, field) for field in SLO_FIELDS}


SLO_FIELDS = (
    "p95_ms",
    "error_rate_pct",
    "min_requests",
    "auto_rollback",
    "window_minutes",
    "payload_sample_rate",
)


class Alert(models.Model):
    """Something a person should look at: an SLO breach, or the rollback it triggered."""

    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(max_length=24, choices=AlertKind.choices)
    message = models.TextField()
    metrics = models.JSONField(default=dict, blank=True)
    judged_event = models.ForeignKey(
        "serving.DeploymentEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The deploy whose version was judged.",
    )
    rollback_event = models.ForeignKey(
        "serving.DeploymentEvent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["judged_event"], name="one_alert_per_judged_event")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.deployment}"


class DriftPolicy(models.Model):
    """How a deployment's inputs are compared with their reference, and when it alerts."""

    deployment = models.OneToOneField(
        "serving.Deployment", on_delete=models.CASCADE, related_name="drift_policy"
    )
    enabled = models.BooleanField(default=True, help_text="Run on the periodic schedule.")
    method = models.CharField(
        max_length=16, choices=DriftMethod.choices, default=DriftMethod.EVIDENTLY
    )
    reference = models.CharField(
        max_length=16, choices=ReferenceKind.choices, default=ReferenceKind.DATASET
    )
    reference_hours = models.PositiveIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="Traffic reference: the first hours of traffic after the latest deploy.",
    )
    window_minutes = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60 * 30)],
        help_text="The current window: the latest minutes of logged inputs.",
    )
    min_rows = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Rows both samples need before they are compared.",
    )
    share_threshold = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.01), MaxValueValidator(1.0)],
        help_text="Share of drifted features that makes the dataset drift (and alerts).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"drift policy of {self.deployment}"

    def as_dict(self) -> dict:
        return {field: getattr(self, field) for field in DRIFT_POLICY_FIELDS}


DRIFT_POLICY_FIELDS = (
    "enabled",
    "method",
    "reference",
    "reference_hours",
    "window_minutes",
    "min_rows",
    "share_threshold",
)


class DriftReport(models.Model):
    """One comparison of a window of logged inputs of one version x variant with its reference."""

    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="drift_reports"
    )
    version = models.IntegerField()
    variant = models.CharField(max_length=16)
    method = models.CharField(max_length=16, choices=DriftMethod.choices)
    reference_kind = models.CharField(max_length=16, choices=ReferenceKind.choices)
    reference_label = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    n_reference = models.PositiveIntegerField(default=0)
    n_current = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=list, blank=True)
    share_drifted = models.FloatField(null=True, blank=True)
    share_threshold = models.FloatField(default=0.5)
    dataset_drift = models.BooleanField(default=False)
    skipped = models.TextField(blank=True, help_text="Why nothing was compared, if so.")
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["deployment", "created_at"], name="drift_deployment_ts")]

    def __str__(self) -> str:
        return f"drift {self.deployment} v{self.version} {self.variant} #{self.pk}"


class Feedback(models.Model):
    """Ground truth (or an outcome) for one logged prediction; a later label replaces it."""

    prediction_id = models.CharField(max_length=80, unique=True)
    log = models.ForeignKey(
        PredictionLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback"
    )
    deployment_id = models.IntegerField()
    version = models.IntegerField()
    variant = models.CharField(max_length=16)
    key_prefix = models.CharField(max_length=16, blank=True)
    predicted_at = models.DateTimeField()
    predicted = models.FloatField(
        null=True, blank=True, help_text="The served answer, when its payload was sampled."
    )
    label = models.FloatField()
    actor_label = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["deployment_id", "predicted_at"], name="feedback_deployment_ts")
        ]

    def __str__(self) -> str:
        return f"feedback on {self.prediction_id}"


class Experiment(models.Model):
    """An A/B test between two versions of a deployment, judged on a metric from feedback."""

    deployment = models.ForeignKey(
        "serving.Deployment", on_delete=models.CASCADE, related_name="experiments"
    )
    name = models.CharField(max_length=100)
    control_version = models.PositiveIntegerField()
    treatment_version = models.PositiveIntegerField()
    metric = models.CharField(max_length=16, choices=ExperimentMetric.choices)
    alpha = models.FloatField(
        default=0.05, validators=[MinValueValidator(0.0001), MaxValueValidator(0.5)]
    )
    power = models.FloatField(
        default=0.8, validators=[MinValueValidator(0.5), MaxValueValidator(0.999)]
    )
    mde = models.FloatField(help_text="Minimum detectable effect, absolute (0.02 = 2 points).")
    baseline = models.FloatField(
        null=True,
        blank=True,
        help_text="Expected control rate (or outcome standard deviation) for planning; blank: "
        "the observed control value.",
    )
    status = models.CharField(
        max_length=16, choices=ExperimentStatus.choices, default=ExperimentStatus.RUNNING
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.JSONField(default=dict, blank=True, help_text="The analysis when it ended.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment"],
                condition=models.Q(status="running"),
                name="one_running_experiment_per_deployment",
            )
        ]

    def __str__(self) -> str:
        return f"experiment {self.name} on {self.deployment}"
