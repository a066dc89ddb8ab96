"""Named choices of the serving app."""

from django.db import models


class VariantRole(models.TextChoices):
    PRIMARY = "primary", "Primary"
    CANDIDATE = "candidate", "Candidate"
    SHADOW = "shadow", "Shadow"


class EventKind(models.TextChoices):
    DEPLOYED = "deployed", "Deployed"
    TRAFFIC_CHANGED = "traffic_changed", "Traffic changed"
    CONFIG_CHANGED = "config_changed", "Configuration changed"
    ROLLED_BACK = "rolled_back", "Rolled back"
    AUTO_ROLLED_BACK = "auto_rolled_back", "Auto-rolled back"
    ARCHIVED = "archived", "Archived"


PRODUCTION = "production"
