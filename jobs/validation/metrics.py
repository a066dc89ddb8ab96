"""Quality metrics of predictions against labels: pure numpy/scipy, no Django."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

HIGHER_IS_BETTER = {"accuracy", "precision", "recall", "f1", "auc", "r2"}


def _binary_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve by the rank-sum (Mann-Whitney U) identity; None for one class."""
    positives = labels == 1
    n_pos, n_neg = int(positives.sum()), int((~positives).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(scores)
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def classification_metrics(output: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """accuracy, macro precision/recall/F1, and AUC for a binary score output."""
    output = np.asarray(output, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    scores = None
    if output.ndim == 1 or output.shape[-1] == 1:
        scores = output.reshape(-1)
        predicted = (scores >= 0.5).astype(np.int64)
    else:
        predicted = output.reshape(len(output), -1).argmax(axis=1)
    classes = np.union1d(labels, predicted)
    precisions, recalls, f1s = [], [], []
    for cls in classes:
        tp = float(np.sum((predicted == cls) & (labels == cls)))
        fp = float(np.sum((predicted == cls) & (labels != cls)))
        fn = float(np.sum((predicted != cls) & (labels == cls)))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        precisions.append(p)
        recalls.append(r)
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    metrics = {
        "accuracy": float(np.mean(predicted == labels)),
        "precision": float(np.mean(precisions)),
        "recall": float(np.mean(recalls)),
        "f1": float(np.mean(f1s)),
    }
    if scores is not None and set(np.unique(labels)) <= {0, 1}:
        auc = _binary_auc(labels, scores)
        if auc is not None:
            metrics["auc"] = auc
    return metrics


def regression_metrics(output: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """MAE, RMSE and R2 of the first output column."""
    predicted = np.asarray(output, dtype=np.float64).reshape(len(output), -1)[:, 0]
    truth = np.asarray(labels, dtype=np.float64).reshape(-1)
    error = predicted - truth
    total = float(np.sum((truth - truth.mean()) ** 2))
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "r2": 1.0 - float(np.sum(error**2)) / total if total else 0.0,
    }


def regressions(
    candidate: dict[str, float], baseline: dict[str, float], tolerance: float
) -> list[str]:
    """The metrics where candidate is worse than baseline by more than tolerance.

    Higher-is-better metrics compare absolute differences; error metrics (MAE, RMSE) compare
    relative ones, since their scale is the label's.
    """
    worse = []
    for name, base in baseline.items():
        if name not in candidate:
            continue
        value = candidate[name]
        if name in HIGHER_IS_BETTER:
            if base - value > tolerance:
                worse.append(f"{name} {value:.4f} < production {base:.4f} - {tolerance:g}")
        elif value > base * (1 + tolerance) + 1e-12:
            worse.append(f"{name} {value:.4g} > production {base:.4g} x (1 + {tolerance:g})")
    return worse


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0}
    values = np.percentile(np.asarray(seconds) * 1000.0, [50, 95, 99])
    return {"p50_ms": float(values[0]), "p95_ms": float(values[1]), "p99_ms": float(values[2])}
