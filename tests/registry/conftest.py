"""Registry fixtures: API keys, archive builders and a check that nothing was left behind."""

from __future__ import annotations

import io
import os
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from tests.support.traffic_fixtures import log_rows, make_event  # noqa: F401 - re-exported


@pytest.fixture
def make_key(db):
    from accounts.keys import clear_key_cache
    from accounts.services import api_key_create

    clear_key_cache()

    def _make(user, scopes):
        _, raw = api_key_create(user=user, name="registry test", scopes=list(scopes))
        return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    yield _make
    clear_key_cache()


@pytest.fixture
def deploy_auth(alice, make_key):
    return make_key(alice, ["read", "deploy"])


@pytest.fixture
def read_auth(alice, make_key):
    return make_key(alice, ["read"])


def files_under(root) -> list[str]:
    root = Path(root)
    if not root.exists():
        return []
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()
    )


def assert_nothing_left():
    """No registry row and no file in the artifact store, dataset store or upload temp dir."""
    from registry.models import Artifact, Dataset, ModelVersion, RegisteredModel

    counts = {
        m.__name__: m.objects.count() for m in (RegisteredModel, ModelVersion, Artifact, Dataset)
    }
    assert counts == {"RegisteredModel": 0, "ModelVersion": 0, "Artifact": 0, "Dataset": 0}
    assert files_under(settings.MODELGATE_ARTIFACT_ROOT) == []
    assert files_under(settings.MODELGATE_DATASET_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


def tar_of(directory: Path, *, top: str | None = None, mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        tar.add(directory, arcname=top or ".")
    return buffer.getvalue()


def zip_of(directory: Path, *, top: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for dirpath, _, filenames in os.walk(directory):
            for name in filenames:
                full = Path(dirpath) / name
                rel = full.relative_to(directory)
                archive.write(full, f"{top}/{rel}" if top else str(rel))
    return buffer.getvalue()


def tar_with(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


@pytest.fixture
def savedmodel_targz(savedmodel_dir) -> bytes:
    return tar_of(savedmodel_dir)


@pytest.fixture
def savedmodel_zip(savedmodel_dir) -> bytes:
    return zip_of(savedmodel_dir)


@pytest.fixture
def write_file(tmp_path):
    def _write(name: str, data: bytes) -> Path:
        path = tmp_path / "inputs" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    return _write


@pytest.fixture
def npz_dataset(tmp_path):
    """A 4-feature hold-out with labels, matching the small classifier."""

    def _make(rows: int = 20, width: int = 4, name: str = "holdout.npz") -> Path:
        rng = np.random.default_rng(1)
        path = tmp_path / "data" / name
        path.parent.mkdir(exist_ok=True)
        np.savez(
            path,
            x=rng.normal(size=(rows, width)).astype("float32"),
            y=rng.integers(0, 2, size=rows),
        )
        return path

    return _make
