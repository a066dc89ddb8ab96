"""Registry writes: register a version, create environments and datasets, move version states.

Each is one transaction with its audit entry; a failure leaves no row, no stored file and no
temp file behind.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from accounts.actors import as_actor
from core.actor import Actor
from core.admin_reason import require_admin_reason
from core.audit import audit_record
from core.errors import Conflict, InvalidInput
from registry import graph_scan, modelio
from registry.archives import archive_kind, extract_archive, pack_directory, savedmodel_root
from registry.artifacts import artifact_store_file, max_archive_files, max_upload_bytes
from registry.constants import (
    BASE_IMAGE_RE,
    ENV_VAR_NAME_RE,
    ENVIRONMENT_NAME_RE,
    MEMORY_LIMIT_RE,
    VERSION_RE,
    VERSION_TRANSITIONS,
    ArtifactFormat,
    Task,
    VersionState,
)
from registry.datasets import dataset_check_signature, dataset_format, dataset_parse
from registry.inputs import (
    artifact_format,
    check_model_name,
    check_size,
    clean_metrics,
    clean_run_url,
    clean_tags,
    resolve_dataset,
    resolve_environment,
)
from registry.models import Dataset, EnvironmentSpec, ModelVersion, RegisteredModel
from registry.selectors import dataset_inputs, dataset_load  # noqa: F401  (re-exported)
from registry.storage import blob_store, copy_limited, discard_stored_files_on_error, work_dir


def _load_model(path: Path, fmt: str) -> dict[str, str | dict]:
    try:
        loaded = modelio.load(path, fmt)
    except modelio.ModelLoadError as exc:
        raise InvalidInput(f"not a TensorFlow SavedModel or Keras model: {exc}") from None
    return {
        "signature": loaded.signature,
        "framework": loaded.framework,
        "framework_version": loaded.framework_version,
    }


def _approval_authorize(*, actor: Actor, reason: str) -> str:
    """Only an admin (session, or a key with the admin scope) with a written reason may register
    a SavedModel whose graph reaches the host; returns the reason."""
    return require_admin_reason(
        actor,
        reason,
        act="approve a SavedModel whose graph reaches the host",
        refused_code="host_ops_approval_not_allowed",
        needs="approving host ops needs",
        explain="what the ops do and why that is safe",
        missing_code="host_ops_reason_required",
    )


def _scan_graph(root: Path, *, approved: bool) -> list[str]:
    """Refuse a SavedModel whose graphs use host ops, before anything loads (and so runs) it;
    with an approval, return what was approved."""
    try:
        findings = graph_scan.scan_savedmodel(root)
    except graph_scan.ScanError as exc:
        raise InvalidInput(f"not a TensorFlow SavedModel or Keras model: {exc}") from None
    if findings and not approved:
        raise InvalidInput(
            "the SavedModel's graph uses ops that reach the host (files, network, processes): "
            f"{', '.join(str(f) for f in findings)}; an admin may approve it with a reason",
            code="host_ops",
        )
    return [str(f) for f in findings]


def _prepare_artifact(
    upload: Any, filename: str, fmt: str, work: Path, *, approved: bool = False
) -> tuple[Path, dict]:
    """Copy the upload into work, scan and read its signature; returns the file to store and the
    facts (with `host_ops`: what an approval let through)."""
    limit = max_upload_bytes()
    if fmt == ArtifactFormat.KERAS:
        target = work / "model.keras"
        with open(target, "wb") as out:
            copy_limited(upload, out, limit=limit, what="artifact")
        return target, {**_load_model(target, fmt), "host_ops": []}
    raw = work / "upload"
    with open(raw, "wb") as out:
        copy_limited(upload, out, limit=limit, what="artifact")
    extracted = work / "extracted"
    extracted.mkdir()
    extract_archive(
        raw, extracted, kind=archive_kind(filename), max_bytes=limit, max_files=max_archive_files()
    )
    raw.unlink()
    root = savedmodel_root(extracted)
    host_ops = _scan_graph(root, approved=approved)
    facts = {**_load_model(root, fmt), "host_ops": host_ops}
    # Repacked reproducibly: the same SavedModel is the same artifact whether zipped or tarred.
    packed = work / "artifact.tar.gz"
    pack_directory(root, packed)
    return packed, facts


# --- services ----------------------------------------------------------------------------------


def version_register(
    *,
    model_name: str,
    upload: Any,
    filename: str,
    actor: Actor,
    environment=None,
    holdout_dataset=None,
    reference_dataset=None,
    source_commit: str = "",
    run_url: str = "",
    tags=(),
    training_metrics=None,
    description: str = "",
    task: str | None = None,
    training_dataset: str = "",
    approve_host_ops: bool = False,
    approval_reason: str = "",
) -> ModelVersion:
    """Register a new version of model_name (creating the model) from a .keras file or a
    SavedModel archive; the signature is read from the artifact. A SavedModel whose graph reaches
    the host is refused unless an admin approves it (`approve_host_ops` + a reason, audited)."""
    model_name = check_model_name(model_name)
    actor = as_actor(actor).require("deploy", model=model_name, what="register a version")
    if approve_host_ops:
        approval_reason = _approval_authorize(actor=actor, reason=approval_reason)
    fmt = artifact_format(filename or "")
    tags = clean_tags(tags)
    metrics = clean_metrics(training_metrics)
    run_url = clean_run_url(run_url)
    source_commit = (source_commit or "").strip()
    if len(source_commit) > 100:
        raise InvalidInput("source_commit is longer than 100 characters")
    if task not in (None, "") and task not in Task.values:
        raise InvalidInput(f"task must be one of {', '.join(Task.values)}")
    environment = resolve_environment(environment)
    holdout = resolve_dataset(holdout_dataset, "holdout")
    reference = resolve_dataset(reference_dataset, "reference")
    check_size(upload, "artifact")

    with work_dir(settings.FILE_UPLOAD_TEMP_DIR) as work:
        stored_file, facts = _prepare_artifact(
            upload, filename, fmt, work, approved=approve_host_ops
        )
        for dataset, role in ((holdout, "holdout"), (reference, "reference")):
            if dataset is not None:
                dataset_check_signature(dataset.schema, facts["signature"], role=role)
        with discard_stored_files_on_error(), transaction.atomic():
            model, created = RegisteredModel.objects.select_for_update().get_or_create(
                name=model_name,
                defaults={
                    "owner": actor.user,
                    "description": description,
                    "task": task or Task.OTHER,
                },
            )
            last = model.versions.aggregate(last=Max("number"))["last"] or 0
            artifact = artifact_store_file(stored_file, fmt=fmt)
            version = ModelVersion.objects.create(
                model=model,
                number=last + 1,
                artifact=artifact,
                format=fmt,
                signature=facts["signature"],
                framework=facts["framework"],
                framework_version=facts["framework_version"],
                training_metrics=metrics,
                tags=tags,
                source_commit=source_commit,
                run_url=run_url,
                training_dataset=training_dataset or "",
                environment=environment,
                holdout_dataset=holdout,
                reference_dataset=reference,
                created_by=actor.user,
            )
            audit_record(
                actor=actor,
                action="model_version.register",
                target=str(version),
                after={
                    "model": model.name,
                    "number": version.number,
                    "model_created": created,
                    "artifact_sha256": artifact.sha256,
                    "format": fmt,
                    "tags": tags,
                    "environment": environment.name if environment else None,
                },
            )
            if facts["host_ops"]:
                audit_record(
                    actor=actor,
                    action=graph_scan.HOST_OPS_APPROVED,
                    target=str(version),
                    after={
                        "ops": facts["host_ops"],
                        "reason": approval_reason,
                        "artifact_sha256": artifact.sha256,
                    },
                )
    return version


def version_set_state(
    *, version: ModelVersion, state: str, actor: Actor | None, reason: str = ""
) -> ModelVersion:
    """Move a version along registered -> validating -> validated|rejected, or to archived.
    actor None: the system (the validation suite's verdict)."""
    actor = as_actor(actor).require("deploy", model=version.model.name, what="change a version")
    if state not in VersionState.values:
        raise InvalidInput(f"unknown state {state!r}")
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        before = locked.state
        legal = state == VersionState.ARCHIVED or state in VERSION_TRANSITIONS[before]
        if before == state or not legal:
            raise Conflict(f"{locked} cannot move from {before} to {state}", code="illegal_state")
        locked.state = state
        locked.state_reason = reason[:300]
        locked.save(update_fields=["state", "state_reason"])
        audit_record(
            actor=actor,
            action="model_version.state",
            target=str(locked),
            before={"state": before},
            after={"state": state, "reason": reason},
        )
    version.state, version.state_reason = state, locked.state_reason
    return locked


def environment_create(
    *,
    name: str,
    python: str,
    tensorflow: str,
    base_image: str,
    actor: Actor,
    cuda: str = "",
    cudnn: str = "",
    env_vars: dict | None = None,
    cpu_limit: float | None = None,
    memory_limit: str = "",
    gpu_count: int = 0,
    extra_packages=(),
) -> EnvironmentSpec:
    """Record the runtime a version expects; the base image must be pinned by digest."""
    actor = as_actor(actor).require("deploy", what="create an environment")
    name = (name or "").strip()
    if not ENVIRONMENT_NAME_RE.match(name):
        raise InvalidInput(f"invalid environment name {name!r}: letters, digits, '.', '-', '_'")
    for label, value, required in (
        ("python", python, True),
        ("tensorflow", tensorflow, True),
        ("cuda", cuda, False),
        ("cudnn", cudnn, False),
    ):
        if (value or required) and not VERSION_RE.match(str(value or "")):
            raise InvalidInput(f"{label} must be a version like 3.11 or 2.21.0, got {value!r}")
    base_image = (base_image or "").strip()
    if not BASE_IMAGE_RE.match(base_image):
        raise InvalidInput(
            f"base_image must be pinned by digest (name@sha256:<64 hex digits>), got {base_image!r}"
        )
    env_vars = env_vars or {}
    if not isinstance(env_vars, dict) or not all(
        isinstance(k, str) and ENV_VAR_NAME_RE.match(k) and isinstance(v, str)
        for k, v in env_vars.items()
    ):
        raise InvalidInput("env_vars must map variable names (A-Z, 0-9, _) to string values")
    if cpu_limit is not None and not (0 < float(cpu_limit) <= 1024):
        raise InvalidInput(f"cpu_limit must be a positive number of cores, got {cpu_limit!r}")
    memory_limit = (memory_limit or "").strip()
    if memory_limit and not MEMORY_LIMIT_RE.match(memory_limit):
        raise InvalidInput(f"memory_limit must look like 512Mi or 4Gi, got {memory_limit!r}")
    if not isinstance(gpu_count, int) or not 0 <= gpu_count <= 16:
        raise InvalidInput("gpu_count must be an integer from 0 to 16")
    if gpu_count and not cuda:
        raise InvalidInput("an environment with GPUs needs a cuda version")
    if isinstance(extra_packages, str):
        extra_packages = extra_packages.split()
    packages = [str(p).strip() for p in extra_packages or () if str(p).strip()]
    bad = [p for p in packages if len(p) > 200 or any(c.isspace() for c in p)]
    if bad:
        raise InvalidInput(f"invalid package requirement(s): {bad}")
    with transaction.atomic():
        if EnvironmentSpec.objects.filter(name=name).exists():
            raise Conflict(f"environment {name!r} already exists")
        spec = EnvironmentSpec.objects.create(
            name=name,
            python=python,
            tensorflow=tensorflow,
            cuda=cuda or "",
            cudnn=cudnn or "",
            base_image=base_image,
            env_vars=env_vars,
            cpu_limit=float(cpu_limit) if cpu_limit is not None else None,
            memory_limit=memory_limit,
            gpu_count=gpu_count,
            extra_packages=packages,
            created_by=actor.user,
        )
        audit_record(
            actor=actor,
            action="environment.create",
            target=f"environment {name}",
            after={"python": python, "tensorflow": tensorflow, "base_image": base_image},
        )
    return spec


def dataset_create(
    *,
    name: str,
    upload: Any,
    filename: str,
    actor: Actor,
    label_column: str | None = None,
) -> Dataset:
    """Store a .npz/.csv/.parquet dataset after checking it is non-empty, rectangular, numeric."""
    actor = as_actor(actor).require("deploy", what="upload a dataset")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("a dataset needs a name of 1-100 characters")
    fmt = dataset_format(filename or "")
    check_size(upload, "dataset")
    with work_dir(settings.FILE_UPLOAD_TEMP_DIR) as work:
        local = work / f"data.{fmt}"
        with open(local, "wb") as out:
            copy_limited(upload, out, limit=max_upload_bytes(), what="dataset")
        parsed = dataset_parse(local, fmt, label_column=label_column)
        with discard_stored_files_on_error(), transaction.atomic():
            blob = blob_store(
                local,
                root=Path(settings.MODELGATE_DATASET_ROOT),
                suffix=f".{fmt}",
                limit=max_upload_bytes(),
                what="dataset",
            )
            dataset = Dataset.objects.create(
                name=name,
                path=blob.relative_path,
                sha256=blob.sha256,
                format=fmt,
                schema=parsed.schema,
                row_count=parsed.row_count,
                size=blob.size,
                created_by=actor.user,
            )
            audit_record(
                actor=actor,
                action="dataset.create",
                target=f"dataset {name} #{dataset.pk}",
                after={"sha256": blob.sha256, "rows": parsed.row_count, "format": fmt},
            )
    return dataset
