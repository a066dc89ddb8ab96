"""`environment_parity`: the worker's runtime against the version's EnvironmentSpec."""

from __future__ import annotations

import re

from django.conf import settings

from jobs.validation.context import CheckResult, SuiteContext
from serving.devices import describe

NAME = "environment_parity"
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")


def worker_environment() -> dict:
    """What this process runs on: device facts, python, and the image digest if containerised."""
    facts = describe()
    facts["image_digest"] = settings.MODELGATE_IMAGE_DIGEST.strip() or None
    return facts


def _version_matches(expected: str, actual: str | None) -> bool:
    """`3.11` matches 3.11.9; `2.21.0` must match exactly up to the spec's precision."""
    if not actual:
        return False
    return actual == expected or actual.startswith(expected + ".")


def _digest(text: str | None) -> str | None:
    match = DIGEST_RE.search(text or "")
    return match.group(0) if match else None


def compare(spec, worker: dict) -> list[dict]:
    """Field by field: [{field, expected, actual, match}] for every field the spec pins."""
    rows = [
        ("python", spec.python, worker.get("python")),
        ("tensorflow", spec.tensorflow, worker.get("tf_version")),
    ]
    if spec.cuda:
        rows.append(("cuda", spec.cuda, worker.get("cuda_version")))
    if spec.cudnn:
        rows.append(("cudnn", spec.cudnn, worker.get("cudnn_version")))
    fields = [
        {"field": f, "expected": e, "actual": a, "match": _version_matches(e, a)}
        for f, e, a in rows
    ]
    have = int(worker.get("gpu_count") or 0)
    fields.append(
        {
            "field": "gpu_count",
            "expected": spec.gpu_count,
            "actual": have,
            "match": have >= spec.gpu_count,
        }
    )
    want_digest, have_digest = _digest(spec.base_image), _digest(worker.get("image_digest"))
    fields.append(
        {
            "field": "image_digest",
            "expected": want_digest,
            "actual": have_digest,
            "match": want_digest is not None and want_digest == have_digest,
        }
    )
    return fields


def run(ctx: SuiteContext) -> CheckResult:
    """List every mismatch; fail only on the fields the policy names."""
    worker = ctx.worker_env
    gpus = worker.get("gpus") or []
    actual = {
        "python": worker.get("python"),
        "tensorflow": worker.get("tf_version"),
        "cuda": worker.get("cuda_version"),
        "cudnn": worker.get("cudnn_version"),
        "device": worker.get("device"),
        "gpu_model": (gpus[0].get("model") or gpus[0].get("name")) if gpus else None,
        "image_digest": worker.get("image_digest"),
    }
    if ctx.environment is None:
        metrics = {"worker": actual, "fields": []}
        if ctx.policy["parity_require_spec"]:
            return CheckResult(NAME, False, metrics, "the version has no environment spec")
        return CheckResult(NAME, True, metrics, "no environment spec to compare with")
    fields = compare(ctx.environment, worker)
    failing_names = set(ctx.policy["parity_fail_on"])
    mismatches = [f for f in fields if not f["match"]]
    failing = [f for f in mismatches if f["field"] in failing_names]
    metrics = {"worker": actual, "spec": ctx.environment.name, "fields": fields}

    def describe_all(items):
        return "; ".join(f"{f['field']}: want {f['expected']}, have {f['actual']}" for f in items)

    if failing:
        return CheckResult(NAME, False, metrics, f"mismatch: {describe_all(failing)}")
    if mismatches:
        return CheckResult(
            NAME, True, metrics, f"tolerated by the policy: {describe_all(mismatches)}"
        )
    return CheckResult(NAME, True, metrics, f"matches {ctx.environment.name} field by field")
