"""Read paths of monitoring: windows of rollups turned into series, predictions, alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import InvalidInput, NotFound
from monitoring.constants import (
    DEFAULT_WINDOW,
    FINE_MAX_SPAN,
    FINE_RETENTION,
    MAX_CUSTOM_WINDOW,
    TEN_SECONDS,
    WINDOWS,
    Resolution,
)
from monitoring.histograms import N_BUCKETS, merge, percentiles
from monitoring.models import (
    BUCKET_FIELDS,
    METRIC_COUNTERS,
    Alert,
    KeyRollup,
    MetricRollup,
    PredictionLog,
)
from serving.models import DeploymentEvent
from serving.refusals import REFUSED_STATUSES


@dataclass(frozen=True)
class Window:
    """A time range to chart, with the rollup resolution to read and the chart step."""

    name: str
    start: datetime
    end: datetime
    resolution: int
    step: int

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "resolution_seconds": self.resolution,
            "step_seconds": self.step,
        }


def _plan(span: timedelta, *, fine_kept: bool) -> tuple[int, int]:
    """(resolution, step) in seconds: enough points to see a change, few enough to draw fast.
    `fine_kept`: the window starts within the 10-second rollups' retention."""
    if span <= FINE_MAX_SPAN and fine_kept:
        return TEN_SECONDS, TEN_SECONDS
    if span <= timedelta(hours=3):
        return Resolution.MINUTE, 60
    if span <= timedelta(hours=36):
        return Resolution.MINUTE, 300
    if span <= timedelta(days=60):
        return Resolution.HOUR, 3600
    return Resolution.DAY, 86400


def _parse_time(value: str, label: str) -> datetime:
    parsed = parse_datetime(value.strip()) if value else None
    if parsed is None:
        raise InvalidInput(f"{label} must be an ISO 8601 date-time like 2025-01-31T12:00:00Z")
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def window_resolve(
    window: str | None = None,
    start: str | None = None,
    end: str | None = None,
    *,
    now: datetime | None = None,
) -> Window:
    """A named window (15m, 1h, 24h, 7d) ending now, or a custom start..end."""
    now = now or timezone.now()
    name = window or ("custom" if start else DEFAULT_WINDOW)
    if name == "custom":
        begin = _parse_time(start or "", "start")
        finish = _parse_time(end, "end") if end else now
        if finish <= begin:
            raise InvalidInput("end must be after start")
        if finish - begin > MAX_CUSTOM_WINDOW:
            raise InvalidInput(f"a custom window may span at most {MAX_CUSTOM_WINDOW.days} days")
    elif name in WINDOWS:
        begin, finish = now - WINDOWS[name], now
    else:
        choices = ", ".join([*WINDOWS, "custom"])
        raise InvalidInput(f"unknown window {name!r}; choose one of {choices}")
    resolution, step = _plan(finish - begin, fine_kept=begin >= now - FINE_RETENTION)
    return Window(name, begin, finish, int(resolution), step)


def floor_to(moment: datetime, seconds: int) -> datetime:
    """The start (UTC) of the `seconds`-long bucket that holds `moment`."""
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def _figures(
    count: int,
    errors: int,
    latency_sum: float,
    hist: list[int],
    *,
    seconds: float,
    batch_sum: int | None = None,
    cache_hits: int | None = None,
) -> dict:
    figures = {
        "requests": count,
        "errors": errors,
        "rps": count / seconds if seconds else 0.0,
        "error_rate_pct": 100.0 * errors / count if count else None,
        "mean_ms": latency_sum / count if count else None,
        **percentiles(hist),
    }
    if batch_sum is not None:
        # Events carry the rows of the batch that ran the request; cache hits and failures
        # carry 0, so the mean is over the successful requests that the batcher ran.
        batched = count - errors - (cache_hits or 0)
        figures["avg_batch_size"] = batch_sum / batched if batched > 0 else None
    if cache_hits is not None:
        figures["cache_hit_pct"] = 100.0 * cache_hits / count if count else None
    return figures


def _window_rows(model, filters: dict, window: Window, fields: tuple[str, ...]):
    return (
        model.objects.filter(
            resolution=window.resolution,
            bucket_start__gte=floor_to(window.start, window.resolution),
            bucket_start__lt=window.end,
            **filters,
        )
        .order_by("bucket_start")
        .values_list("bucket_start", *fields, *BUCKET_FIELDS)
    )


def _series(rows, n_labels: int, n_sums: int, window: Window) -> dict[tuple, dict[int, list]]:
    """Sum rows into {labels: {step_start_epoch: [sums..., buckets...]}}."""
    out: dict[tuple, dict[int, list]] = {}
    for row in rows:
        labels = row[1 : 1 + n_labels]
        step = int(row[0].timestamp()) // window.step * window.step
        steps = out.setdefault(labels, {})
        acc = steps.get(step)
        values = row[1 + n_labels :]
        if acc is None:
            steps[step] = list(values)
        else:
            for i, value in enumerate(values):
                acc[i] += value
    return out


def _width(metric: bool) -> int:
    """Sums per step: a metric rollup's counters or a key rollup's three, then the buckets."""
    return (len(METRIC_COUNTERS) if metric else 3) + N_BUCKETS


def _points(steps: dict[int, list], window: Window, *, metric: bool) -> tuple[list, dict]:
    points, total = [], [0] * _width(metric)
    for start in sorted(steps):
        sums = steps[start]
        for i, value in enumerate(sums):
            total[i] += value
        points.append(
            {
                "t": datetime.fromtimestamp(start, UTC).isoformat(),
                **_summary(sums, window.step, metric=metric),
            }
        )
    span = max((window.end - window.start).total_seconds(), 1.0)
    return points, _summary(total, span, metric=metric)


def _summary(sums: list, seconds: float, *, metric: bool) -> dict:
    if metric:
        count, errors, lat, batch, _rows, hits = sums[:6]
        return _figures(
            count, errors, lat, sums[6:], seconds=seconds, batch_sum=batch, cache_hits=hits
        )
    count, errors, lat = sums[:3]
    return _figures(count, errors, lat, sums[3:], seconds=seconds)


def _window_totals(steps: list[list], window: Window, *, metric: bool) -> dict:
    """The summary of every step of the counted series over the whole window."""
    merged = [sum(col) for col in zip(*steps, strict=True)] if steps else [0] * _width(metric)
    span = max((window.end - window.start).total_seconds(), 1.0)
    return _summary(merged, span, metric=metric)


def deployment_metrics(*, deployment_id: int, window: Window) -> dict:
    """Per version x variant series (rate, percentiles, errors, batch size, cache hits) of one
    deployment over `window`, from rollups only, plus the window's totals."""
    rows = _window_rows(
        MetricRollup,
        {"deployment_id": deployment_id},
        window,
        ("version", "variant", *METRIC_COUNTERS),
    )
    grouped = _series(rows, 2, len(METRIC_COUNTERS), window)
    series, overall = [], []
    for (version, variant), steps in sorted(grouped.items()):
        points, totals = _points(steps, window, metric=True)
        series.append(
            {
                "version": version,
                "variant": variant,
                "label": f"v{version} {variant}",
                "points": points,
                "totals": totals,
            }
        )
        overall.extend(steps.values())
    return {
        "window": window.as_dict(),
        "series": series,
        "totals": _window_totals(overall, window, metric=True),
    }


def deployment_rate_now(*, deployment_id: int, now: datetime | None = None) -> dict:
    """Requests, req/s and errors of the last full minute (six 10-second rollups), per version
    label and in total: the "now" beside a window's averages."""
    end = floor_to(now or timezone.now(), TEN_SECONDS)
    start = end - timedelta(seconds=60)
    rows = MetricRollup.objects.filter(
        deployment_id=deployment_id,
        resolution=TEN_SECONDS,
        bucket_start__gte=start,
        bucket_start__lt=end,
    ).values_list("version", "variant", "count", "errors")
    by_label: dict[str, list[int]] = {}
    for version, variant, count, errors in rows:
        sums = by_label.setdefault(f"v{version} {variant}", [0, 0])
        sums[0] += count
        sums[1] += errors
    count = sum(c for c, _ in by_label.values())
    errors = sum(e for _, e in by_label.values())
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "requests": count,
        "rps": count / 60.0,
        "error_rate_pct": 100.0 * errors / count if count else None,
        "by_label": {label: c / 60.0 for label, (c, _) in sorted(by_label.items())},
    }


def key_metrics(*, key_prefix: str, window: Window) -> dict:
    """One API key's calls by deployment and status over `window`, with latency percentiles."""
    rows = _window_rows(
        KeyRollup,
        {"key_prefix": key_prefix},
        window,
        ("model", "deployment", "status", "count", "errors", "latency_sum_ms"),
    )
    grouped = _series(rows, 3, 3, window)
    series, overall, refused = [], [], []
    for (model, deployment, status), steps in sorted(grouped.items()):
        points, totals = _points(steps, window, metric=False)
        if status in REFUSED_STATUSES:
            # Refusals are no calls served: kept out of the totals and percentiles.
            refused.append((status, totals["requests"]))
        series.append(
            {
                "model": model,
                "deployment": deployment,
                "status": status,
                "label": f"{model}/{deployment or '-'} {status}",
                "points": points,
                "totals": totals,
            }
        )
        if status not in REFUSED_STATUSES:
            overall.extend(steps.values())
    return {
        "window": window.as_dict(),
        "series": series,
        "totals": _window_totals(overall, window, metric=False),
        "refused": count_refusals(refused),
    }


def version_figures(
    *, deployment_id: int, versions: list[int], since: datetime, until: datetime
) -> dict:
    """Requests, error rate and percentiles of some versions of a deployment between two times,
    from minute rollups (what the SLO check judges)."""
    rows = (
        MetricRollup.objects.filter(
            deployment_id=deployment_id,
            resolution=Resolution.MINUTE,
            version__in=versions,
            bucket_start__gte=floor_to(since, 60),
            bucket_start__lt=until,
        )
        .exclude(variant="shadow")
        .values_list("count", "errors", "latency_sum_ms", *BUCKET_FIELDS)
    )
    count = errors = 0
    latency = 0.0
    hists = []
    for row in rows:
        count += row[0]
        errors += row[1]
        latency += row[2]
        hists.append(row[3:])
    seconds = max((until - since).total_seconds(), 1.0)
    return _figures(count, errors, latency, merge(*hists), seconds=seconds)


def _split_prediction_id(prediction_id: str) -> tuple[str, int]:
    """(request_id, row) of `<request_id>-<row>`; an id without a row suffix means row 0."""
    request_id, _, row = prediction_id.rpartition("-")
    if not request_id or not row.isdigit():
        return prediction_id, 0
    return request_id, int(row)


def _row_exists(log: PredictionLog | None, row: int) -> bool:
    return log is not None and row < max(log.rows, 1)


def prediction_get(prediction_id: str) -> tuple[PredictionLog, int]:
    """The logged request behind a prediction id (`<request_id>-<row>`), and the row number."""
    request_id, row = _split_prediction_id(prediction_id)
    log = PredictionLog.objects.filter(request_id=request_id).first()
    if not _row_exists(log, row):
        raise NotFound(f"prediction {prediction_id!r} not found (or past its retention)")
    return log, row


def predictions_get(prediction_ids: list[str]) -> dict[str, tuple[PredictionLog, int]]:
    """`prediction_get` of many ids in one query: {id: (log, row)} of the ids that exist."""
    split = {pid: _split_prediction_id(pid) for pid in prediction_ids}
    logs = PredictionLog.objects.in_bulk(
        {request_id for request_id, _ in split.values()}, field_name="request_id"
    )
    found = {}
    for pid, (request_id, row) in split.items():
        log = logs.get(request_id)
        if _row_exists(log, row):
            found[pid] = (log, row)
    return found


def deployment_events_in(deployment, window: Window):
    """A deployment's events inside a window, oldest first (the charts' markers)."""
    return DeploymentEvent.objects.filter(
        deployment=deployment, created_at__gte=window.start, created_at__lte=window.end
    ).order_by("created_at")


def recent_errors(*, key_prefix: str, limit: int = 20):
    """A key's latest failed calls; refusals (401, 403, 429) are listed apart."""
    return (
        PredictionLog.objects.filter(key_prefix=key_prefix, status__gte=400)
        .exclude(status__in=REFUSED_STATUSES)
        .order_by("-ts")[:limit]
    )


def count_refusals(rows) -> dict:
    """(status, count) rows as {"total": n, "by_status": {401: n, 403: n, 429: n}}."""
    by_status = {status: 0 for status in sorted(REFUSED_STATUSES)}
    for status, count in rows:
        by_status[status] += count
    return {"total": sum(by_status.values()), "by_status": by_status}


def alerts_open():
    """Unresolved alerts, newest first (the dashboard shows them)."""
    return Alert.objects.filter(resolved_at__isnull=True).select_related(
        "deployment__model", "rollback_event"
    )
