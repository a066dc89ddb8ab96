"""The artifact store: model files by sha256 under MODELGATE_ARTIFACT_ROOT, and their local,
loadable form (`artifact_local_path`) for the serving runtime and the validation suite."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from core.errors import InvalidInput, Unavailable
from registry import graph_scan
from registry.archives import TAR, extract_archive, savedmodel_root
from registry.constants import ArtifactFormat
from registry.models import Artifact
from registry.storage import blob_store

SUFFIXES = {ArtifactFormat.KERAS: ".keras", ArtifactFormat.SAVEDMODEL: ".tar.gz"}


def artifact_root() -> Path:
    return Path(settings.MODELGATE_ARTIFACT_ROOT)


def extract_root() -> Path:
    """Where SavedModel archives are unpacked for loading: beside the store by default, or a
    writable scratch dir (MODELGATE_ARTIFACT_EXTRACT_ROOT) where readers mount the store
    read-only (serving, validation and batch workers in compose and Kubernetes)."""
    configured = settings.MODELGATE_ARTIFACT_EXTRACT_ROOT
    return Path(configured) if configured else artifact_root() / "extracted"


def max_upload_bytes() -> int:
    return int(settings.MODELGATE_MAX_UPLOAD_BYTES)


def max_archive_files() -> int:
    return int(settings.MODELGATE_MAX_ARCHIVE_FILES)


def artifact_store_file(fileobj_or_path: Any, *, fmt: str) -> Artifact:
    """Store a `.keras` file or a packed SavedModel (.tar.gz); the same bytes give the same row."""
    if fmt not in SUFFIXES:
        raise InvalidInput(f"unknown artifact format {fmt!r}")
    blob = blob_store(
        fileobj_or_path,
        root=artifact_root(),
        suffix=SUFFIXES[fmt],
        limit=max_upload_bytes(),
        what="artifact",
    )
    existing = Artifact.objects.filter(sha256=blob.sha256).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Artifact.objects.create(
                sha256=blob.sha256, size=blob.size, format=fmt, path=blob.relative_path
            )
    except IntegrityError:
        # A concurrent upload of the same bytes won the race; theirs is the row.
        return Artifact.objects.get(sha256=blob.sha256)


def artifact_file_path(artifact: Artifact) -> Path:
    """The stored file itself."""
    return artifact_root() / artifact.path


def artifact_local_path(artifact: Artifact) -> Path:
    """What `registry.modelio.load` takes: the `.keras` file, or the SavedModel directory
    (the stored archive is extracted once, into `<extract_root>/<sha>/`)."""
    stored = artifact_file_path(artifact)
    if artifact.format == ArtifactFormat.KERAS:
        if not stored.is_file():
            raise Unavailable(f"artifact {artifact.sha256[:12]} is missing from the store")
        return stored
    target = extract_root() / artifact.sha256
    if not target.is_dir():
        if not stored.is_file():
            raise Unavailable(f"artifact {artifact.sha256[:12]} is missing from the store")
        _extract_once(stored, target)
    root = savedmodel_root(target)
    _check_host_ops(artifact, root)
    return root


# Artifacts already scanned by this process (sha256s); the scan runs once per process and load.
_scanned: set[str] = set()


def _check_host_ops(artifact: Artifact, root: Path) -> None:
    """Refuse to hand out a SavedModel whose graph reaches the host unless an admin approved
    these bytes: catches versions registered before registration scanned, before they run."""
    if artifact.sha256 in _scanned:
        return
    try:
        findings = graph_scan.scan_savedmodel(root)
    except graph_scan.ScanError as exc:
        raise Unavailable(f"artifact {artifact.sha256[:12]}: {exc}") from None
    if findings and not graph_scan.host_ops_approved(artifact.sha256):
        ops = ", ".join(str(f) for f in findings)
        raise Unavailable(
            f"artifact {artifact.sha256[:12]} uses ops that reach the host ({ops}) and no admin "
            "approved it: it will not be loaded",
            code="host_ops",
        )
    _scanned.add(artifact.sha256)


def _extract_once(archive: Path, target: Path) -> None:
    """Extract beside the target and rename: two processes racing both end with one full copy."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".extracting-", dir=target.parent))
    try:
        extract_archive(
            archive, scratch, kind=TAR, max_bytes=max_upload_bytes(), max_files=max_archive_files()
        )
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
