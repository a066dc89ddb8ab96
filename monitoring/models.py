"""Prediction log, rollups (per minute, hour and day), SLO policies and alerts."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from monitoring.constants import AlertKind, Resolution
from monitoring.histograms import N_BUCKETS

BUCKET_FIELDS = tuple(f"b{i}" for i in range(N_BUCKETS))


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
