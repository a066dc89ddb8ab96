"""The suite: build the context for a version (load, XLA warm-up, baselines) and run the checks."""

from __future__ import annotations

from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from jobs.validation import (
    accuracy,
    edge_cases,
    input_validation,
    load,
    parity,
    performance,
    signature,
)
from jobs.validation.context import CheckResult, SuiteContext
from registry.artifacts import artifact_local_path
from registry.models import ModelVersion
from registry.selectors import dataset_inputs
from serving.batching import Batcher
from serving.constants import PRODUCTION, VariantRole
from serving.devices import configure_tensorflow
from serving.models import Deployment, Variant
from serving.runtime import ModelRuntime

# Cheap checks first, so a broken version fails before the timed ones spend minutes.
CHECKS: list[tuple[str, Callable[[SuiteContext], CheckResult]]] = [
    (signature.NAME, signature.run),
    (parity.NAME, parity.run),
    (input_validation.NAME, input_validation.run),
    (edge_cases.NAME, edge_cases.run),
    (accuracy.NAME, accuracy.run),
    (performance.NAME, performance.run),
    (load.NAME, load.run),
]
CHECK_NAMES = [name for name, _ in CHECKS]
DEFAULT_MAX_BATCH_SIZE = 64
DEFAULT_MAX_REQUEST_ROWS = 1024


def production_version(version: ModelVersion) -> ModelVersion | None:
    """The other version taking the most traffic in the model's `production` deployment."""
    variant = (
        Variant.objects.filter(
            deployment__model_id=version.model_id,
            deployment__name=PRODUCTION,
            role__in=[VariantRole.PRIMARY, VariantRole.CANDIDATE],
        )
        .exclude(version_id=version.pk)
        .select_related("version")
        .order_by("-weight", "-version__number")
        .first()
    )
    return variant.version if variant else None


def deployment_limits(version: ModelVersion) -> tuple[int, int]:
    """(max batch size, max request rows) of production, or the deployment defaults."""
    dep = Deployment.objects.filter(model_id=version.model_id, name=PRODUCTION).first()
    if dep is None:
        return DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_REQUEST_ROWS
    return dep.max_batch_size, dep.max_request_rows


def load_runtime(version: ModelVersion, max_batch_size: int, buckets: list[int] | None = None):
    """The version's runtime, XLA-compiled and warmed exactly as the serving pool does it
    (every bucket up to `max_batch_size`, or only `buckets` when a caller knows its shapes)."""
    info = configure_tensorflow()
    runtime = ModelRuntime.load(
        artifact_local_path(version.artifact),
        version.format,
        max_batch_size=max_batch_size,
        buckets=buckets,
        device=info.device,
        jit=settings.MODELGATE_XLA,
    )
    runtime.warm_up()
    return runtime


def build_context(version: ModelVersion, policy: dict, log: Callable[[str], None]) -> SuiteContext:
    """Load and warm the version (and lazily production's) with the deployment's batching."""
    max_batch, max_rows = deployment_limits(version)
    max_batch = max(max_batch, min(max(policy["performance_batch_sizes"]), 1024))
    log(f"loading {version} (max batch {max_batch})")
    runtime = load_runtime(version, max_batch)
    log(f"warmed on {runtime.device}, xla={runtime.xla}, buckets {runtime.buckets}")
    batcher = Batcher(
        runtime.predict,
        max_batch_size=max_batch,
        max_queue_rows=max(max_batch * 64, 4096),
        name=f"validation/{version}",
    )
    holdout = None
    if version.holdout_dataset_id:
        holdout = dataset_inputs(version.holdout_dataset, version.signature)
        rows = version.holdout_dataset.row_count
        log(f"hold-out dataset #{version.holdout_dataset_id}: {rows} rows")
    production = production_version(version)
    baseline: dict = {}

    def production_runtime():
        if "runtime" not in baseline:
            log(f"loading production {production} for comparison")
            baseline["runtime"] = load_runtime(production, max_batch)
        return baseline["runtime"]

    return SuiteContext(
        version=version,
        signature=version.signature,
        runtime=runtime,
        batcher=batcher,
        policy=policy,
        max_batch_size=max_batch,
        max_request_rows=max_rows,
        task=version.model.task,
        holdout=holdout,
        production=production,
        production_runtime=production_runtime if production else None,
        environment=version.environment,
        worker_env=parity.worker_environment(),
        log=log,
    )


def run_checks(
    ctx: SuiteContext, on_result: Callable[[CheckResult, int, int], None]
) -> list[CheckResult]:
    """Every check in order; a check that raises is a failed check with the exception as why."""
    results = []
    for index, (name, check) in enumerate(CHECKS):
        ctx.log(f"check {name}: running")
        try:
            result = check(ctx)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - recorded as this check's failure
            result = CheckResult(name, False, {}, f"the check crashed: {type(exc).__name__}: {exc}")
        ctx.log(f"check {name}: {'passed' if result.passed else 'FAILED'} - {result.message}")
        results.append(result)
        on_result(result, index + 1, len(CHECKS))
    ctx.batcher.close(timeout=5)
    return results
