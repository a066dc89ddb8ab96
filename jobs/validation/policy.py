"""Per-model validation thresholds: typed defaults, checked edits, one audited write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import InvalidInput
from jobs.models import ValidationPolicy
from registry.models import RegisteredModel

PARITY_FIELDS = ("python", "tensorflow", "cuda", "cudnn", "gpu_count", "image_digest")
NONFINITE_CHOICES = ("no_crash", "finite")


@dataclass(frozen=True)
class Setting:
    """One policy threshold: its type, default, bounds and what it means."""

    kind: str  # float | int | bool | choice | int_list | field_list
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


SETTINGS: dict[str, Setting] = {
    "performance_batch_sizes": Setting(
        "int_list", [1, 8, 32], "Batch sizes to time (the deployment's maximum is added).", 1, 4096
    ),
    "performance_p99_ms": Setting("float", 250.0, "p99 latency budget per batch, ms.", 0.1, 60000),
    "performance_min_rows_per_s": Setting(
        "float", 0.0, "Throughput floor at the largest batch size, rows/s.", 0, 1e9
    ),
    "performance_iterations": Setting("int", 30, "Timed calls per batch size.", 3, 10000),
    "accuracy_tolerance": Setting(
        "float", 0.01, "How much worse than production a metric may be (absolute).", 0, 1
    ),
    "accuracy_require_holdout": Setting(
        "bool", False, "Fail when the version has no hold-out dataset with labels."
    ),
    "accuracy_min": Setting(
        "float", 0.0, "Absolute floor on accuracy (classification) or R2 (regression).", -1e9, 1
    ),
    "edge_nonfinite_outputs": Setting(
        "choice",
        "no_crash",
        "NaN/Inf inputs: 'no_crash' (any output, or a 400) or 'finite' (outputs must be finite).",
        choices=NONFINITE_CHOICES,
    ),
    "edge_extreme_value": Setting(
        "float", 1e6, "Magnitude of the 'extreme' edge case inputs.", 1, 1e38
    ),
    "load_seconds": Setting("float", 2.0, "Duration of the sustained load check, s.", 0.1, 600),
    "load_concurrency": Setting("int", 8, "Concurrent clients in the load check.", 1, 256),
    "load_p99_ms": Setting(
        "float", 500.0, "p99 request latency budget under load, ms.", 0.1, 60000
    ),
    "parity_fail_on": Setting(
        "field_list",
        ["python", "tensorflow"],
        "Environment fields whose mismatch fails (others only warn).",
        choices=PARITY_FIELDS,
    ),
    "parity_require_spec": Setting(
        "bool", False, "Fail when the version has no environment spec to compare with."
    ),
    "signature_allow_breaking": Setting(
        "bool", False, "Allow removed/retyped inputs against the version serving production."
    ),
}


def policy_defaults() -> dict[str, Any]:
    return {name: _copy(s.default) for name, s in SETTINGS.items()}


def _copy(value):
    return list(value) if isinstance(value, list) else value


def clean_value(name: str, value: Any) -> Any:
    """One threshold checked and converted; InvalidInput names the key and the rule."""
    setting = SETTINGS.get(name)
    if setting is None:
        raise InvalidInput(f"unknown policy setting {name!r}; known: {', '.join(SETTINGS)}")
    kind = setting.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "on", "off", "1", "0"):
            return value.lower() in ("true", "on", "1")
        raise InvalidInput(f"{name} must be true or false")
    if kind == "choice":
        if value not in setting.choices:
            raise InvalidInput(f"{name} must be one of {', '.join(setting.choices)}")
        return value
    if kind in ("int_list", "field_list"):
        items = value.replace(",", " ").split() if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise InvalidInput(f"{name} must be a list")
        if kind == "field_list":
            bad = [v for v in items if v not in setting.choices]
            if bad:
                raise InvalidInput(f"{name}: unknown field(s) {bad}; known: {setting.choices}")
            return sorted(set(items), key=setting.choices.index)
        try:
            numbers = sorted({int(v) for v in items})
        except (TypeError, ValueError):
            raise InvalidInput(f"{name} must be a list of whole numbers") from None
        if not numbers or numbers[0] < setting.low or numbers[-1] > setting.high:
            raise InvalidInput(f"{name} needs 1+ sizes from {setting.low:g} to {setting.high:g}")
        return numbers
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a number")
    try:
        number = int(value) if kind == "int" else float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a {'whole ' if kind == 'int' else ''}number") from None
    if kind == "int" and float(value) != number:
        raise InvalidInput(f"{name} must be a whole number")
    if number != number or not setting.low <= number <= setting.high:
        raise InvalidInput(f"{name} must lie between {setting.low:g} and {setting.high:g}")
    return number


def policy_effective(model: RegisteredModel) -> dict[str, Any]:
    """The model's thresholds over the defaults (unknown stored keys are ignored)."""
    stored = ValidationPolicy.objects.filter(model=model).values_list("thresholds", flat=True)
    merged = policy_defaults()
    for name, value in (stored.first() or {}).items():
        if name in SETTINGS:
            merged[name] = value
    return merged


def policy_update(
    *, model: RegisteredModel, changes: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """Change some thresholds of a model's policy; returns the effective policy."""
    actor = as_actor(actor).require("deploy", model=model.name, what="change its validation policy")
    if not isinstance(changes, dict) or not changes:
        raise InvalidInput("nothing to change: send {setting: value} pairs")
    cleaned = {name: clean_value(name, value) for name, value in changes.items()}
    with transaction.atomic():
        policy, _ = ValidationPolicy.objects.select_for_update().get_or_create(model=model)
        before = dict(policy.thresholds)
        policy.thresholds = {**before, **cleaned}
        policy.updated_by = actor.user
        policy.save()
        audit_record(
            actor=actor,
            action="validation_policy.update",
            target=f"model {model.name}",
            before=before,
            after=policy.thresholds,
        )
    return policy_effective(model)
