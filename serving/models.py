"""Deployments: which versions serve a model under a name, and their append-only history."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from serving.constants import EventKind, VariantRole


class Deployment(models.Model):
    """A named serving slot of a model (`production`, `staging`, ...) and its batching config."""

    model = models.ForeignKey(
        "registry.RegisteredModel", on_delete=models.CASCADE, related_name="deployments"
    )
    name = models.SlugField(max_length=63)
    max_batch_size = models.PositiveIntegerField(
        default=64, validators=[MinValueValidator(1), MaxValueValidator(1024)]
    )
    max_delay_ms = models.FloatField(
        default=0.0, validators=[MinValueValidator(0.0), MaxValueValidator(100.0)]
    )
    max_queue_rows = models.PositiveIntegerField(
        default=2048, validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    max_request_rows = models.PositiveIntegerField(
        default=1024, validators=[MinValueValidator(1), MaxValueValidator(100_000)]
    )
    cache_ttl_seconds = models.PositiveIntegerField(
        default=0, help_text="Prediction cache TTL in seconds; 0 turns the cache off."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Set once it took no traffic and was archived."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="unique_deployment_name")
        ]
        ordering = ["model__name", "name"]

    def __str__(self) -> str:
        return f"{self.model.name}/{self.name}"

    def config(self) -> dict:
        return {
            "max_batch_size": self.max_batch_size,
            "max_delay_ms": self.max_delay_ms,
            "max_queue_rows": self.max_queue_rows,
            "max_request_rows": self.max_request_rows,
            "cache_ttl_seconds": self.cache_ttl_seconds,
        }


class Variant(models.Model):
    """One version serving in a deployment, with its share of traffic and its role."""

    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="variants")
    version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="variants"
    )
    weight = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    role = models.CharField(max_length=16, choices=VariantRole.choices, default=VariantRole.PRIMARY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deployment", "version"], name="unique_variant_version")
        ]
        ordering = ["-weight", "version__number"]

    def __str__(self) -> str:
        return f"{self.deployment} v{self.version.number} {self.weight}% {self.role}"

    def state(self) -> dict:
        return {"version": self.version.number, "weight": self.weight, "role": self.role}


class AppendOnlyError(Exception):
    """A deployment event is history: it is never edited or deleted."""


class DeploymentEvent(models.Model):
    """An append-only record of a change to a deployment, with the state before and after."""

    deployment = models.ForeignKey(Deployment, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=list)
    after = models.JSONField(default=list)
    config = models.JSONField(default=dict)
    override = models.BooleanField(default=False)
    restored_event = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="restorations"
    )
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.deployment} {self.kind} #{self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("deployment events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("deployment events are append-only")

    @property
    def versions_after(self) -> list[int]:
        return [v["version"] for v in self.after]
