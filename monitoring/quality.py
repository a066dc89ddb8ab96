"""Prediction quality from feedback: accuracy / precision / recall (classification) or MAE /
RMSE (regression) over time per version x variant, with a flag when the latest step dropped."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
from django.conf import settings

from monitoring.models import Feedback
from monitoring.selectors import Window
from registry.constants import Task

MIN_LABELLED = 20  # a step with fewer labels is too noisy to call a drop


def _drop_threshold() -> float:
    return settings.MODELGATE_QUALITY_DROP


def scores(predicted: np.ndarray, label: np.ndarray, task: str) -> dict:
    """Quality figures of paired answers and labels (positive class 1 for precision/recall)."""
    n = int(label.size)
    if n == 0:
        return {"n": 0}
    if task == Task.CLASSIFICATION:
        hit = predicted == label
        predicted_pos, actual_pos = predicted == 1, label == 1
        true_pos = int(np.sum(predicted_pos & actual_pos))
        return {
            "n": n,
            "accuracy": float(np.mean(hit)),
            "precision": true_pos / int(np.sum(predicted_pos)) if np.any(predicted_pos) else None,
            "recall": true_pos / int(np.sum(actual_pos)) if np.any(actual_pos) else None,
        }
    error = predicted - label
    return {
        "n": n,
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(math.sqrt(np.mean(error**2))),
    }


def headline(task: str) -> tuple[str, bool]:
    """The metric a drop is judged on, and whether higher is better."""
    return ("accuracy", True) if task == Task.CLASSIFICATION else ("mae", False)


def dropped(points: list[dict], task: str, threshold: float | None = None) -> dict | None:
    """The latest well-labelled step against the earlier ones: a drop of accuracy by more than
    `threshold` (absolute), or a rise of MAE by more than `threshold` x 100% (relative)."""
    threshold = _drop_threshold() if threshold is None else threshold
    metric, higher_better = headline(task)
    usable = [p for p in points if p.get("n", 0) >= MIN_LABELLED and p.get(metric) is not None]
    if len(usable) < 2:
        return None
    latest, earlier = usable[-1], usable[:-1]
    total = sum(p["n"] for p in earlier)
    before = sum(p[metric] * p["n"] for p in earlier) / total
    now = latest[metric]
    worse = before - now > threshold if higher_better else now > before * (1 + threshold)
    if not worse:
        return None
    return {"metric": metric, "before": before, "latest": now, "t": latest["t"]}


def quality_series(*, deployment_id: int, task: str, window: Window) -> dict:
    """Per version x variant: labelled predictions and quality per chart step, totals, and the
    drop flag."""
    rows = (
        Feedback.objects.filter(
            deployment_id=deployment_id,
            predicted_at__gte=window.start,
            predicted_at__lt=window.end,
            predicted__isnull=False,
        )
        .order_by("predicted_at")
        .values_list("version", "variant", "predicted_at", "predicted", "label")
    )
    grouped: dict[tuple, dict[int, list]] = {}
    for version, variant, at, predicted, label in rows:
        step = int(at.timestamp()) // window.step * window.step
        grouped.setdefault((version, variant), {}).setdefault(step, []).append((predicted, label))
    series = []
    for (version, variant), steps in sorted(grouped.items()):
        points, every = [], []
        for step in sorted(steps):
            pairs = np.asarray(steps[step], dtype=np.float64)
            every.append(pairs)
            points.append(
                {
                    "t": datetime.fromtimestamp(step, UTC).isoformat(),
                    **scores(pairs[:, 0], pairs[:, 1], task),
                }
            )
        merged = np.vstack(every)
        series.append(
            {
                "version": version,
                "variant": variant,
                "label": f"v{version} {variant}",
                "points": points,
                "totals": scores(merged[:, 0], merged[:, 1], task),
                "drop": dropped(points, task),
            }
        )
    labelled = Feedback.objects.filter(
        deployment_id=deployment_id,
        predicted_at__gte=window.start,
        predicted_at__lt=window.end,
    ).count()
    # Only labels whose prediction was logged with its answer (a sampled payload) can be scored.
    scored = sum(int(s["totals"]["n"]) for s in series)
    return {
        "window": window.as_dict(),
        "task": task,
        "series": series,
        "labelled": labelled,
        "scored": scored,
        "unscored": labelled - scored,
    }
