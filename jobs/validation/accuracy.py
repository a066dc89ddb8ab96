"""`accuracy`: hold-out metrics, compared with the version serving production on the same rows."""

from __future__ import annotations

import numpy as np

from jobs.validation.context import CheckResult, SuiteContext
from jobs.validation.metrics import classification_metrics, regression_metrics, regressions
from registry.constants import Task

NAME = "accuracy"


def score(runtime, feeds: dict[str, np.ndarray], chunk: int) -> np.ndarray:
    """The first output over all rows, run in chunks the runtime accepts."""
    rows = len(next(iter(feeds.values())))
    name = runtime.outputs[0].name
    parts = [
        runtime.predict({k: v[start : start + chunk] for k, v in feeds.items()})[name]
        for start in range(0, rows, chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros((0,))


def _metrics(task: str, output: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    if task == Task.REGRESSION:
        return regression_metrics(output, labels)
    return classification_metrics(output, labels)


def run(ctx: SuiteContext) -> CheckResult:
    """Metrics on the hold-out set; fail when worse than production beyond the tolerance."""
    policy = ctx.policy
    if ctx.holdout is None or ctx.holdout[1] is None:
        why = "the version has no hold-out dataset with labels"
        if policy["accuracy_require_holdout"]:
            return CheckResult(NAME, False, {}, f"{why} and the policy requires one")
        return CheckResult(NAME, True, {"skipped": True}, f"skipped: {why}")
    feeds, labels = ctx.holdout
    task = ctx.task if ctx.task in (Task.CLASSIFICATION, Task.REGRESSION) else Task.CLASSIFICATION
    candidate = _metrics(task, score(ctx.runtime, feeds, ctx.max_batch_size), labels)
    metrics = {"task": task, "rows": int(len(labels)), "candidate": candidate}
    problems = []
    floor_metric = "r2" if task == Task.REGRESSION else "accuracy"
    if candidate[floor_metric] < policy["accuracy_min"]:
        problems.append(
            f"{floor_metric} {candidate[floor_metric]:.4f} < floor {policy['accuracy_min']:g}"
        )
    if ctx.production is not None and ctx.production_runtime is not None:
        baseline_runtime = ctx.production_runtime()
        baseline = _metrics(task, score(baseline_runtime, feeds, ctx.max_batch_size), labels)
        metrics["production"] = baseline
        metrics["production_version"] = ctx.production.number
        problems += regressions(candidate, baseline, policy["accuracy_tolerance"])
    summary = ", ".join(f"{k} {v:.4f}" for k, v in candidate.items())
    if problems:
        return CheckResult(NAME, False, metrics, "; ".join(problems))
    against = f" (production v{ctx.production.number} compared)" if ctx.production else ""
    return CheckResult(NAME, True, metrics, f"{summary}{against}")
