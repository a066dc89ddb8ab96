"""Shadow vs primary: pair each logged shadow answer with the primary answer to the same input
(same key, identical sampled inputs, closest in time) and measure how often they agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import orjson

from monitoring.feedback import served_classes
from monitoring.models import PredictionLog
from registry.constants import Task

PAIR_SECONDS = 30.0  # a shadow call runs right after its primary; farther apart is another call
REGRESSION_TOLERANCE = 0.01  # relative difference counted as agreement for non-classifiers
MAX_LOGS = 20_000
FIELDS = ("key_prefix", "inputs", "outputs", "ts", "version")


def _as_rows(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return values.reshape(values.shape[0], -1) if values.ndim else values.reshape(1, 1)


def _input_key(key_prefix: str, inputs) -> tuple[str, bytes]:
    return key_prefix, orjson.dumps(inputs, option=orjson.OPT_SORT_KEYS)


def _agree(a: np.ndarray, b: np.ndarray, task: str) -> np.ndarray:
    """Per row: same class for a classifier, within 1% otherwise."""
    if task == Task.CLASSIFICATION:
        return served_classes(a) == served_classes(b)
    scale = np.maximum(np.abs(a), 1.0)
    return np.all(np.abs(a - b) <= REGRESSION_TOLERANCE * scale, axis=1)


@dataclass
class _Tally:
    """What one shadow version's logs added up to."""

    shadow_logs: int = 0
    pairs: int = 0
    rows: int = 0
    agree: int = 0
    abs_diff_sum: float = 0.0
    values: int = 0
    primary_versions: set[int] = field(default_factory=set)

    def add(self, primary: np.ndarray, shadow: np.ndarray, primary_version: int, task: str):
        self.pairs += 1
        self.rows += shadow.shape[0]
        self.agree += int(np.sum(_agree(primary, shadow, task)))
        self.abs_diff_sum += float(np.sum(np.abs(primary - shadow)))
        self.values += shadow.size
        self.primary_versions.add(primary_version)

    def as_dict(self, shadow_version: int) -> dict:
        return {
            "shadow_version": shadow_version,
            "shadow_logs": self.shadow_logs,
            "pairs": self.pairs,
            "primary_versions": sorted(self.primary_versions),
            "rows": self.rows,
            "agreement_rate": self.agree / self.rows if self.rows else None,
            "mean_abs_diff": self.abs_diff_sum / self.values if self.values else None,
        }


def _paired(candidates: list, ts: datetime, outputs: dict):
    """(primary values, shadow values, primary version) of the primary answer closest in time
    to a shadow answer, or None when there is none comparable."""
    close = [c for c in candidates if abs((c[0] - ts).total_seconds()) <= PAIR_SECONDS]
    if not close or not outputs:
        return None
    _, primary_outputs, primary_version = min(close, key=lambda c: abs((c[0] - ts).total_seconds()))
    name = next(iter(outputs))
    if name not in primary_outputs:
        return None
    primary, shadow = _as_rows(primary_outputs[name]), _as_rows(outputs[name])
    if primary.shape != shadow.shape:
        return None
    return primary, shadow, primary_version


def shadow_compare(*, deployment_id: int, task: str, since: datetime, until: datetime) -> dict:
    """Per shadow version: pairs found, rows compared, agreement rate, mean absolute difference."""
    window = PredictionLog.objects.filter(
        deployment_id=deployment_id, ts__gte=since, ts__lt=until, status=200
    ).exclude(inputs__isnull=True)
    primaries: dict[tuple, list] = {}
    for key, inputs, outputs, ts, version in (
        window.filter(shadow=False)
        .exclude(outputs__isnull=True)
        .order_by("-ts")
        .values_list(*FIELDS)[:MAX_LOGS]
    ):
        primaries.setdefault(_input_key(key, inputs), []).append((ts, outputs, version))
    tallies: dict[int, _Tally] = {}
    for key, inputs, outputs, ts, version in (
        window.filter(shadow=True).order_by("-ts").values_list(*FIELDS)[:MAX_LOGS]
    ):
        tally = tallies.setdefault(version, _Tally())
        tally.shadow_logs += 1
        paired = _paired(primaries.get(_input_key(key, inputs), []), ts, outputs)
        if paired is not None:
            tally.add(*paired, task)
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "shadows": [tally.as_dict(version) for version, tally in tallies.items()],
    }
