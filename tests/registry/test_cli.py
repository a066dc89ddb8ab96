"""`manage.py register_model`: files, archives and SavedModel directories."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from registry.models import Dataset, ModelVersion
from tests.registry.conftest import assert_nothing_left


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("register_model", *[str(a) for a in args], stdout=out)
    return out.getvalue().strip()


@pytest.mark.django_db
def test_it_registers_a_savedmodel_directory(alice, savedmodel_dir):
    output = _run(savedmodel_dir, "--name", "sm", "--tag", "x", "--tag", "y", "--user", "alice")
    version = ModelVersion.objects.get()
    assert output == f"Registered sm v1 (sha256 {version.artifact.sha256[:12]})"
    assert version.format == "savedmodel" and version.tags == ["x", "y"]
    assert version.created_by == alice
    assert version.signature["inputs"][0]["name"] == "features"


@pytest.mark.django_db
def test_it_registers_a_keras_file_with_datasets(keras_model_file, npz_dataset):
    holdout = npz_dataset(name="holdout.npz")
    output = _run(
        keras_model_file,
        "--name",
        "churn",
        "--holdout",
        holdout,
        "--reference",
        holdout,
        "--source-commit",
        "abc",
    )
    assert output.startswith("Registered churn v1 (sha256 ")
    version = ModelVersion.objects.get()
    assert version.holdout_dataset.name == "holdout.npz"
    assert version.source_commit == "abc"
    assert Dataset.objects.count() == 2


@pytest.mark.django_db
def test_it_fails_cleanly_and_rolls_back_its_datasets(keras_model_file, npz_dataset):
    wide = npz_dataset(width=7)
    with pytest.raises(CommandError, match="the holdout dataset does not match the model"):
        _run(keras_model_file, "--name", "churn", "--holdout", wide)
    assert_nothing_left()


@pytest.mark.django_db
def test_it_reports_missing_paths_and_users(keras_model_file, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        _run(tmp_path / "nope.keras", "--name", "x")
    with pytest.raises(CommandError, match="user 'ghost' does not exist"):
        _run(keras_model_file, "--name", "x", "--user", "ghost")
    assert_nothing_left()


@pytest.mark.django_db(transaction=True)
def test_it_exits_non_zero_from_the_shell(tmp_path):
    import subprocess
    import sys

    from tests.support.servers import server_env

    bogus = tmp_path / "m.keras"
    bogus.write_bytes(b"nope")
    # The same database as the test (SQLite file or PostgreSQL test DB), a private store.
    env = server_env(MODELGATE_ARTIFACT_ROOT=tmp_path / "a")
    result = subprocess.run(
        [sys.executable, "manage.py", "register_model", str(bogus), "--name", "x"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode != 0
    assert "not a TensorFlow SavedModel or Keras model" in result.stderr
