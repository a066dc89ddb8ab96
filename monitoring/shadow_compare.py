"""Shadow vs primary: pair each logged shadow answer with the primary answer to the same input
(same key, identical sampled inputs, closest in time) and measure how often they agree."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import orjson

from monitoring.models import PredictionLog
from registry.constants import Task

PAIR_SECONDS = 30.0  # a shadow call runs right after its primary; farther apart is another call
REGRESSION_TOLERANCE = 0.01  # relative difference counted as agreement for non-classifiers
MAX_LOGS = 20_000


def _first_output(outputs: dict) -> tuple[str, np.ndarray] | None:
    if not outputs:
        return None
    name = next(iter(outputs))
    values = np.asarray(outputs[name], dtype=np.float64)
    return name, values.reshape(values.shape[0], -1) if values.ndim else values.reshape(1, 1)


def _agree(a: np.ndarray, b: np.ndarray, task: str) -> np.ndarray:
    """Per row: same class for a classifier, within 1% otherwise."""
    if task == Task.CLASSIFICATION:
        if a.shape[1] == 1:
            return (a[:, 0] >= 0.5) == (b[:, 0] >= 0.5)
        return np.argmax(a, axis=1) == np.argmax(b, axis=1)
    scale = np.maximum(np.abs(a), 1.0)
    return np.all(np.abs(a - b) <= REGRESSION_TOLERANCE * scale, axis=1)


def shadow_compare(*, deployment_id: int, task: str, since: datetime, until: datetime) -> dict:
    """Per shadow version: pairs found, rows compared, agreement rate, mean absolute difference."""
    window = PredictionLog.objects.filter(
        deployment_id=deployment_id, ts__gte=since, ts__lt=until, status=200
    ).exclude(inputs__isnull=True)
    primaries: dict[tuple, list] = {}
    fields = ("key_prefix", "inputs", "outputs", "ts", "version")
    for key, inputs, outputs, ts, version in (
        window.filter(shadow=False)
        .exclude(outputs__isnull=True)
        .order_by("-ts")
        .values_list(*fields)[:MAX_LOGS]
    ):
        primaries.setdefault((key, orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)), []).append(
            (ts, outputs, version)
        )
    per_version: dict[int, dict] = {}
    for key, inputs, outputs, ts, version in (
        window.filter(shadow=True).order_by("-ts").values_list(*fields)[:MAX_LOGS]
    ):
        stats = per_version.setdefault(
            version,
            {
                "shadow_version": version,
                "shadow_logs": 0,
                "pairs": 0,
                "rows": 0,
                "agree": 0,
                "abs_diff_sum": 0.0,
                "values": 0,
                "primary_versions": set(),
            },
        )
        stats["shadow_logs"] += 1
        candidates = primaries.get((key, orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)), [])
        close = [c for c in candidates if abs((c[0] - ts).total_seconds()) <= PAIR_SECONDS]
        shadow_out = _first_output(outputs or {})
        if not close or shadow_out is None:
            continue
        primary_ts, primary_outputs, primary_version = min(
            close, key=lambda c: abs((c[0] - ts).total_seconds())
        )
        name, shadow_values = shadow_out
        if name not in primary_outputs:
            continue
        primary_values = np.asarray(primary_outputs[name], dtype=np.float64)
        primary_values = primary_values.reshape(primary_values.shape[0], -1)
        if primary_values.shape != shadow_values.shape:
            continue
        stats["pairs"] += 1
        stats["rows"] += shadow_values.shape[0]
        stats["agree"] += int(np.sum(_agree(primary_values, shadow_values, task)))
        stats["abs_diff_sum"] += float(np.sum(np.abs(primary_values - shadow_values)))
        stats["values"] += shadow_values.size
        stats["primary_versions"].add(primary_version)
    results = []
    for stats in per_version.values():
        rows, values = stats.pop("rows"), stats.pop("values")
        agree, diff = stats.pop("agree"), stats.pop("abs_diff_sum")
        stats["primary_versions"] = sorted(stats["primary_versions"])
        stats["rows"] = rows
        stats["agreement_rate"] = agree / rows if rows else None
        stats["mean_abs_diff"] = diff / values if values else None
        results.append(stats)
    return {"since": since.isoformat(), "until": until.isoformat(), "shadows": results}
