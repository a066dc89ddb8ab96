"""Readers (serving, validation and batch workers) can run with the artifact store read-only:
they unpack SavedModels into their own scratch directory, never into the store."""

from __future__ import annotations

import pytest

from registry import modelio
from registry.artifacts import artifact_local_path
from registry.services import version_register
from tests.registry.conftest import files_under, tar_of


@pytest.mark.django_db
def test_it_unpacks_into_the_scratch_dir_and_writes_nothing_to_the_store(
    alice, savedmodel_dir, write_file, tmp_path, settings
):
    version = version_register(
        model_name="sm",
        upload=write_file("m.tgz", tar_of(savedmodel_dir)),
        filename="m.tgz",
        actor=alice,
    )
    stored = files_under(settings.MODELGATE_ARTIFACT_ROOT)
    settings.MODELGATE_ARTIFACT_EXTRACT_ROOT = str(tmp_path / "scratch")

    path = artifact_local_path(version.artifact)

    assert path == tmp_path / "scratch" / version.artifact.sha256
    assert files_under(settings.MODELGATE_ARTIFACT_ROOT) == stored
    loaded = modelio.load(path, "savedmodel")
    assert [t.name for t in loaded.inputs] == ["features"]
