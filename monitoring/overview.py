"""The overview of every deployment: what serves, how it does now, what changed last.

A fixed handful of queries whatever the number of deployments: rollups of the last hour, refused
calls, the latest drift report, open alerts and the latest event are each read once for all.

Errors are failed requests that reached a version; refused calls (401, 403, 429: no key, a key
without the scope, a spent rate limit) are the callers' doing and are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import OuterRef, Subquery
from django.utils import timezone

from monitoring.constants import TEN_SECONDS, Resolution
from monitoring.histograms import merge, percentiles
from monitoring.models import BUCKET_FIELDS, Alert, DriftReport, KeyRollup, MetricRollup
from monitoring.selectors import count_refusals, floor_to
from serving.models import Deployment, DeploymentEvent
from serving.refusals import REFUSED_STATUSES

HEALTH_WINDOW = timedelta(minutes=15)  # p95 and error rate
SPARK_WINDOW = timedelta(hours=1)  # the sparkline: one point a minute
SPARK_SIZE = (120, 28)


@dataclass
class OverviewRow:
    """One deployment's line of the overview."""

    deployment: Deployment
    variants: list = field(default_factory=list)
    rps_now: float = 0.0
    requests: int = 0
    p95: float | None = None
    error_rate_pct: float | None = None
    refused: dict = field(default_factory=lambda: count_refusals([]))
    drift: DriftReport | None = None
    open_alerts: int = 0
    last_event: DeploymentEvent | None = None
    spark: list[float] = field(default_factory=list)

    @property
    def spark_points(self) -> str:
        """SVG polyline points of the last hour's req/s, scaled to the sparkline's box."""
        width, height = SPARK_SIZE
        top = max(self.spark, default=0.0) or 1.0
        step = width / max(len(self.spark) - 1, 1)
        return " ".join(
            f"{i * step:.1f},{height - 2 - (value / top) * (height - 4):.1f}"
            for i, value in enumerate(self.spark)
        )

    @property
    def spark_peak(self) -> float:
        return max(self.spark, default=0.0)

    @property
    def drift_status(self) -> str:
        if self.drift is None:
            return "not checked"
        if self.drift.skipped:
            return "skipped"
        return "drifted" if self.drift.dataset_drift else "no drift"


def overview_rows(*, now: datetime | None = None) -> list[OverviewRow]:
    """Every deployment with its variants, req/s of the last full minute, p95 and error rate of
    the last 15 minutes and the current one (shadow copies excluded), refused calls of the same
    window by status, drift, open alerts, last change, and a sparkline of req/s a minute over
    the last hour."""
    now = now or timezone.now()
    last_event = DeploymentEvent.objects.filter(deployment=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    deployments = list(
        Deployment.objects.filter(archived_at__isnull=True)
        .select_related("model")
        .prefetch_related("variants__version")
        .annotate(last_event_id=Subquery(last_event.values("pk")[:1]))
    )
    rows = {d.pk: OverviewRow(deployment=d, variants=list(d.variants.all())) for d in deployments}
    if not rows:
        return []
    events = DeploymentEvent.objects.in_bulk(
        [d.last_event_id for d in deployments if d.last_event_id]
    )
    for d in deployments:
        rows[d.pk].last_event = events.get(d.last_event_id)
    _fill_traffic(rows, now)
    _fill_refused(rows, now)
    for report in DriftReport.objects.filter(deployment_id__in=rows).order_by(
        "deployment_id", "-created_at", "-id"
    ):
        row = rows[report.deployment_id]
        if row.drift is None:
            row.drift = report
    for alert in Alert.objects.filter(deployment_id__in=rows, resolved_at__isnull=True).only(
        "deployment_id"
    ):
        rows[alert.deployment_id].open_alerts += 1
    return list(rows.values())


def _fill_traffic(rows: dict[int, OverviewRow], now: datetime) -> None:
    minute_end = floor_to(now, 60) + timedelta(seconds=60)  # the current minute counts so far
    spark_start = minute_end - SPARK_WINDOW
    health_start = minute_end - HEALTH_WINDOW
    n_points = int(SPARK_WINDOW.total_seconds() // 60)
    for row in rows.values():
        row.spark = [0.0] * n_points
    hists: dict[int, list] = {pk: [] for pk in rows}
    counts: dict[int, list[int]] = {pk: [0, 0] for pk in rows}
    minute_rows = (
        MetricRollup.objects.filter(
            deployment_id__in=rows,
            resolution=Resolution.MINUTE,
            bucket_start__gte=spark_start,
            bucket_start__lt=minute_end,
        )
        .exclude(variant="shadow")
        .values_list("deployment_id", "bucket_start", "count", "errors", *BUCKET_FIELDS)
    )
    for deployment_id, start, count, errors, *buckets in minute_rows:
        index = int((start - spark_start).total_seconds() // 60)
        rows[deployment_id].spark[index] += count / 60.0
        if start >= health_start:
            counts[deployment_id][0] += count
            counts[deployment_id][1] += errors
            hists[deployment_id].append(buckets)
    for pk, row in rows.items():
        count, errors = counts[pk]
        row.requests = count
        row.error_rate_pct = 100.0 * errors / count if count else None
        row.p95 = percentiles(merge(*hists[pk]))["p95"] if hists[pk] else None
    tick_end = floor_to(now, TEN_SECONDS)
    ticks = (
        MetricRollup.objects.filter(
            deployment_id__in=rows,
            resolution=TEN_SECONDS,
            bucket_start__gte=tick_end - timedelta(seconds=60),
            bucket_start__lt=tick_end,
        )
        .exclude(variant="shadow")
        .values_list("deployment_id", "count")
    )
    for deployment_id, count in ticks:
        rows[deployment_id].rps_now += count / 60.0


def _fill_refused(rows: dict[int, OverviewRow], now: datetime) -> None:
    """Refused calls of the health window, by status; key rollups name the deployment."""
    minute_end = floor_to(now, 60) + timedelta(seconds=60)
    by_name = {(r.deployment.model.name, r.deployment.name): r for r in rows.values()}
    grouped: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for model, name, status, count in KeyRollup.objects.filter(
        resolution=Resolution.MINUTE,
        status__in=REFUSED_STATUSES,
        bucket_start__gte=minute_end - HEALTH_WINDOW,
        bucket_start__lt=minute_end,
        model__in={model for model, _ in by_name},
    ).values_list("model", "deployment", "status", "count"):
        grouped.setdefault((model, name), []).append((status, count))
    for key, counts in grouped.items():
        if key in by_name:
            by_name[key].refused = count_refusals(counts)
