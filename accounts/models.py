"""Users' roles, API keys and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.constants import Role


class Profile(models.Model):
    """A user's role in Modelgate; one per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """An API key: a public prefix plus the sha256 of its secret; the key itself is never stored."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Limits as text ("100/m", "20/s", "10000/d", "300000/mo"); blank: the role's ceiling applies.
    rate_limit = models.CharField(max_length=20, blank=True, default="")
    burst_limit = models.CharField(max_length=20, blank=True, default="")
    quota = models.CharField(max_length=20, blank=True, default="")
    # Rotation: the old secret keeps working until previous_valid_until, then stops.
    previous_hashed_secret = models.CharField(max_length=64, blank=True, default="")
    previous_valid_until = models.DateTimeField(null=True, blank=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"


class RoleLimits(models.Model):
    """The most a role's keys may be allowed: admins set these; blank means no ceiling."""

    role = models.CharField(max_length=16, choices=Role.choices, unique=True)
    max_rate = models.CharField(max_length=20, blank=True, default="")
    max_burst = models.CharField(max_length=20, blank=True, default="")
    max_quota = models.CharField(max_length=20, blank=True, default="")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "role limits"

    def __str__(self) -> str:
        return f"{self.role}: rate {self.max_rate or '-'}, quota {self.max_quota or '-'}"
