"""Named choices of the monitoring app."""

from datetime import timedelta

from django.db import models


class Resolution(models.IntegerChoices):
    MINUTE = 60, "Minute"
    HOUR = 3600, "Hour"
    DAY = 86400, "Day"


class AlertKind(models.TextChoices):
    SLO_BREACH = "slo_breach", "SLO breached"
    AUTO_ROLLED_BACK = "auto_rolled_back", "Auto-rolled back"


# The window selector of the monitoring pages and the metrics API.
WINDOWS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
DEFAULT_WINDOW = "1h"
MAX_CUSTOM_WINDOW = timedelta(days=400)
