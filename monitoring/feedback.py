"""Ground truth for logged predictions: one label (or outcome) per prediction id, replaced by a
later one; the served answer is copied beside it so quality survives the log's retention."""

from __future__ import annotations

import math

import numpy as np
from django.db import transaction

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import InvalidInput, PermissionDenied
from monitoring.models import Feedback, PredictionLog
from monitoring.selectors import prediction_get, predictions_get
from registry.constants import Task
from registry.models import RegisteredModel

MAX_BULK = 10_000


def served_classes(scores: np.ndarray) -> np.ndarray:
    """The class a classifier answered per row of (rows x outputs) scores: score >= 0.5 for one
    sigmoid output, argmax otherwise."""
    if scores.shape[1] == 1:
        return (scores[:, 0] >= 0.5).astype(np.float64)
    return np.argmax(scores, axis=1).astype(np.float64)


def served_value(log: PredictionLog, row: int, task: str) -> float | None:
    """The answer the caller got for one row, as a number: the class for a classifier (see
    `served_classes`), the first value for anything else; None when the payload was not
    sampled."""
    if not log.outputs:
        return None
    first = next(iter(log.outputs.values()))
    try:
        values = np.asarray(first[row], dtype=np.float64).ravel()
    except (IndexError, TypeError, ValueError):
        return None
    if values.size == 0:
        return None
    if task == Task.CLASSIFICATION:
        return float(served_classes(values.reshape(1, -1))[0])
    return float(values[0])


def _label(value) -> float:
    if isinstance(value, bool):
        return float(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"label {value!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidInput(f"label {value!r} must be a finite number")
    return number


def _model_tasks(logs: list[PredictionLog]) -> dict[str, str]:
    """{model name: task} of the models behind some logs (a model since deleted counts as other)."""
    names = {log.model for log in logs}
    tasks = dict(RegisteredModel.objects.filter(name__in=names).values_list("name", "task"))
    return {name: tasks.get(name) or Task.OTHER for name in names}


def _upsert(log: PredictionLog, row: int, label: float, actor_label: str, task: str) -> Feedback:
    feedback, _ = Feedback.objects.update_or_create(
        prediction_id=f"{log.request_id}-{row}",
        defaults={
            "log": log,
            "deployment_id": log.deployment_id,
            "version": log.version,
            "variant": log.variant,
            "key_prefix": log.key_prefix,
            "predicted_at": log.ts,
            "predicted": served_value(log, row, task),
            "label": label,
            "actor_label": actor_label,
        },
    )
    return feedback


def _may_label(actor, models) -> Actor:
    """Labels on a model's predictions take its `predict` or `deploy` scope (per-model counts)."""
    actor = as_actor(actor)
    for model in sorted(set(models)):
        if not (actor.can("predict", model=model) or actor.can("deploy", model=model)):
            raise PermissionDenied(
                f"recording feedback on {model} needs the predict or deploy scope"
            )
    return actor


@transaction.atomic
def feedback_record(*, prediction_id: str, label, actor: Actor) -> Feedback:
    """Record the ground truth or outcome of one logged prediction (a later one replaces it)."""
    label = _label(label)
    log, row = prediction_get(prediction_id)
    actor = _may_label(actor, [log.model])
    task = _model_tasks([log])[log.model]
    feedback = _upsert(log, row, label, actor.label, task)
    audit_record(
        actor=actor,
        action="feedback.record",
        target=f"prediction:{feedback.prediction_id}",
        after={"label": feedback.label},
    )
    return feedback


@transaction.atomic
def feedback_record_bulk(*, items: list[tuple[str, object]], actor: Actor) -> list[Feedback]:
    """Record many labels at once: all of them, or none when any id or label is bad."""
    if not items:
        raise InvalidInput("no labels given")
    if len(items) > MAX_BULK:
        raise InvalidInput(f"at most {MAX_BULK} labels at once, not {len(items)}")
    labels = [(pid.strip(), _label(value)) for pid, value in items]
    found = predictions_get([pid for pid, _ in labels])
    actor = _may_label(actor, [log.model for log, _ in found.values()])
    missing = [pid for pid, _ in labels if pid not in found]
    if missing:
        shown = ", ".join(missing[:10]) + (
            f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        # Checked before any write: a bulk upload is all or nothing.
        raise InvalidInput(f"unknown prediction id(s): {shown}; nothing was recorded")
    tasks = _model_tasks([log for log, _ in found.values()])
    actor_label = actor.label
    done = []
    for pid, label in labels:
        log, row = found[pid]
        done.append(_upsert(log, row, label, actor_label, tasks[log.model]))
    audit_record(
        actor=actor,
        action="feedback.record_bulk",
        target=f"predictions:{len(done)}",
        after={"count": len(done), "first": done[0].prediction_id},
    )
    return done


def parse_bulk(text: str) -> list[tuple[str, str]]:
    """Lines of `prediction_id,label` (comma, tab or space separated; a header line is skipped)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace("\t", ",").replace(" ", ",").split(",")
        parts = [p for p in parts if p]
        if number == 1 and parts[:1] == ["prediction_id"]:
            continue
        if len(parts) != 2:
            raise InvalidInput(f"line {number}: expected 'prediction_id,label', got {line!r}")
        items.append((parts[0], parts[1]))
    return items
