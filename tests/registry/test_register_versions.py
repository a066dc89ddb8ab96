"""Registering versions: .keras, SavedModel .zip/.tar.gz, numbering, artifacts, immutability."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings

from core.errors import Conflict
from registry import modelio
from registry.artifacts import artifact_file_path, artifact_local_path
from registry.models import Artifact, ModelVersion, RegisteredModel
from registry.services import version_register
from tests.registry.conftest import files_under, tar_of, zip_of

SMALL_SIGNATURE_INPUTS = [{"name": "features", "dtype": "float32", "shape": [-1, 4]}]


@pytest.mark.django_db
def test_it_registers_a_keras_file_and_reads_its_signature(alice, keras_model_file):
    version = version_register(
        model_name="churn",
        upload=keras_model_file,
        filename="small.keras",
        actor=alice,
        tags=["baseline", "nightly"],
        training_metrics={"accuracy": 0.9},
        source_commit="abc123",
        run_url="https://ci.example.com/run/1",
        task="classification",
    )
    assert (version.model.name, version.number, version.format) == ("churn", 1, "keras")
    assert version.signature == {
        "method": "serving_default",
        "inputs": SMALL_SIGNATURE_INPUTS,
        "outputs": [{"name": "score", "dtype": "float32", "shape": [-1, 1]}],
    }
    assert version.state == "registered"
    assert version.model.owner == alice and version.model.task == "classification"
    assert version.tags == ["baseline", "nightly"]
    assert version.framework == "keras"
    stored = artifact_file_path(version.artifact)
    assert stored.read_bytes() == keras_model_file.read_bytes()
    assert stored.relative_to(settings.MODELGATE_ARTIFACT_ROOT).parts[:2] == (
        "sha256",
        version.artifact.sha256[:2],
    )
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.django_db
def test_it_records_an_audit_entry(alice, keras_model_file):
    from core.models import AuditEntry

    version_register(model_name="churn", upload=keras_model_file, filename="m.keras", actor=alice)
    entry = AuditEntry.objects.get(action="model_version.register")
    assert entry.target == "churn v1"
    assert entry.after["model_created"] is True


@pytest.mark.django_db
def test_it_numbers_versions_1_2_3_per_model(alice, keras_model_file, keras_model_file_v2):
    numbers = [
        version_register(model_name="churn", upload=f, filename="m.keras", actor=alice).number
        for f in (keras_model_file, keras_model_file_v2, keras_model_file)
    ]
    other = version_register(
        model_name="other", upload=keras_model_file, filename="m.keras", actor=alice
    )
    assert numbers == [1, 2, 3]
    assert other.number == 1
    assert RegisteredModel.objects.count() == 2


@pytest.mark.django_db
def test_it_stores_the_same_bytes_once(alice, keras_model_file, keras_model_file_v2):
    v1 = version_register(model_name="a", upload=keras_model_file, filename="m.keras", actor=alice)
    v2 = version_register(model_name="b", upload=keras_model_file, filename="m.keras", actor=alice)
    v3 = version_register(
        model_name="a", upload=keras_model_file_v2, filename="m.keras", actor=alice
    )
    assert v1.artifact_id == v2.artifact_id != v3.artifact_id
    assert Artifact.objects.count() == 2
    assert len(files_under(settings.MODELGATE_ARTIFACT_ROOT)) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("packing", ["targz-root", "targz-folder", "zip-root", "zip-folder"])
def test_it_registers_a_savedmodel_archive(alice, savedmodel_dir, write_file, packing):
    kind, layout = packing.split("-")
    top = "exported" if layout == "folder" else None
    data = tar_of(savedmodel_dir, top=top) if kind == "targz" else zip_of(savedmodel_dir, top=top)
    name = "model.tar.gz" if kind == "targz" else "model.zip"
    version = version_register(
        model_name="sm", upload=write_file(name, data), filename=name, actor=alice
    )
    assert version.format == "savedmodel"
    assert version.framework == "tensorflow"
    assert version.signature["inputs"] == SMALL_SIGNATURE_INPUTS
    assert [o["name"] for o in version.signature["outputs"]] == ["output_0"]
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.django_db
def test_it_stores_a_savedmodel_once_whether_zipped_or_tarred(alice, savedmodel_dir, write_file):
    zipped = version_register(
        model_name="sm",
        upload=write_file("m.zip", zip_of(savedmodel_dir)),
        filename="m.zip",
        actor=alice,
    )
    tarred = version_register(
        model_name="sm",
        upload=write_file("m.tgz", tar_of(savedmodel_dir, top="inner")),
        filename="m.tgz",
        actor=alice,
    )
    assert zipped.number == 1 and tarred.number == 2
    assert zipped.artifact_id == tarred.artifact_id


@pytest.mark.django_db
def test_it_gives_serving_a_loadable_path(alice, savedmodel_dir, write_file, keras_model_file):
    sm = version_register(
        model_name="sm",
        upload=write_file("m.tgz", tar_of(savedmodel_dir)),
        filename="m.tgz",
        actor=alice,
    )
    path = artifact_local_path(sm.artifact)
    assert path == settings.MODELGATE_ARTIFACT_ROOT / "extracted" / sm.artifact.sha256
    marker = path / "saved_model.pb"
    before = marker.stat().st_mtime_ns
    assert artifact_local_path(sm.artifact) == path  # extracted once, not again
    assert marker.stat().st_mtime_ns == before
    loaded = modelio.load(path, sm.format)
    rows = np.ones((2, 4), dtype="float32")
    out = np.asarray(loaded.call({"features": rows})["output_0"])
    assert out.shape == (2, 1)

    ks = version_register(model_name="ks", upload=keras_model_file, filename="m.keras", actor=alice)
    keras_loaded = modelio.load(artifact_local_path(ks.artifact), ks.format)
    np.testing.assert_allclose(
        np.asarray(keras_loaded.call({"features": rows})["score"]), out, rtol=1e-5
    )


@pytest.mark.django_db
def test_it_reads_a_multi_input_signature(alice, multi_io_model_file):
    version = version_register(
        model_name="multi", upload=multi_io_model_file, filename="multi.keras", actor=alice
    )
    inputs = {i["name"]: i["shape"] for i in version.signature["inputs"]}
    outputs = {o["name"]: o["shape"] for o in version.signature["outputs"]}
    assert inputs == {"features": [-1, 4], "extra": [-1, 2]}
    assert outputs == {"score": [-1, 1], "logits": [-1, 3]}


@pytest.mark.django_db
def test_it_refuses_to_change_a_version_except_its_state(alice, keras_model_file):
    version = version_register(
        model_name="churn", upload=keras_model_file, filename="m.keras", actor=alice
    )
    version.tags = ["edited"]
    with pytest.raises(Conflict, match="immutable.*tags"):
        version.save()
    fresh = ModelVersion.objects.get(pk=version.pk)
    fresh.signature = {"inputs": []}
    with pytest.raises(Conflict, match="signature"):
        fresh.save()
    fresh = ModelVersion.objects.get(pk=version.pk)
    fresh.state = "validating"
    fresh.save()
    assert ModelVersion.objects.get(pk=version.pk).state == "validating"
    assert ModelVersion.objects.get(pk=version.pk).tags == []
