"""Named choices of the monitoring app."""

from datetime import timedelta

from django.db import models


class Resolution(models.IntegerChoices):
    MINUTE = 60, "Minute"
    HOUR = 3600, "Hour"
    DAY = 86400, "Day"


# Rollups of ten seconds feed the charts of windows up to an hour (and the "now" rate). Not a
# Resolution choice: the choices only label the admin, and a tier kept for a day needs no
# migration of the rollup tables.
TEN_SECONDS = 10
FINE_MAX_SPAN = timedelta(hours=1)
FINE_RETENTION = timedelta(days=1)


class AlertKind(models.TextChoices):
    SLO_BREACH = "slo_breach", "SLO breached"
    AUTO_ROLLED_BACK = "auto_rolled_back", "Auto-rolled back"
    DRIFT = "drift", "Data drift"
    QUALITY_DROP = "quality_drop", "Quality dropped"
    LOAD_FAILURE = "load_failure", "Failed to load"


# The window selector of the monitoring pages and the metrics API.
WINDOWS: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
DEFAULT_WINDOW = "1h"
MAX_CUSTOM_WINDOW = timedelta(days=400)


class DriftMethod(models.TextChoices):
    EVIDENTLY = "evidently", "Evidently defaults (KS / chi-square / Z / Wasserstein / JS)"
    PSI = "psi", "PSI, 10 reference-quantile bins"
    KS = "ks", "Kolmogorov-Smirnov at any size"


class ReferenceKind(models.TextChoices):
    DATASET = "dataset", "The version's reference dataset"
    TRAFFIC = "traffic", "Traffic after the latest deploy"


class ExperimentMetric(models.TextChoices):
    ACCURACY = "accuracy", "Accuracy (rate: prediction matches the label)"
    CONVERSION = "conversion", "Conversion (rate: the outcome is positive)"
    OUTCOME = "outcome", "Mean outcome (Welch's t-test)"


class ExperimentStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PROMOTED = "promoted", "Treatment promoted"
    STOPPED = "stopped", "Stopped"
