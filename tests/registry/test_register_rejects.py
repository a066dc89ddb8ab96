"""Every bad upload gets a precise 4xx and leaves no row, no stored file and no temp file."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.registry.conftest import assert_nothing_left, files_under, tar_of, tar_with

URL = "/api/v1/models/churn/versions"


def _info(name: str, kind=tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def _zip_with(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def _zip_symlink() -> bytes:
    info = zipfile.ZipInfo("saved_model.pb")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip_with([(info, b"/etc/passwd")])


def _post(client, auth, name: str, data: bytes, **fields):
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    return client.post(URL, {"artifact": upload, **fields}, **auth)


CASES = {
    "not a model": (
        "m.keras",
        lambda sm: b"this is not a keras file" * 10,
        400,
        "not a TensorFlow SavedModel or Keras model",
    ),
    "archive without a savedmodel": (
        "m.zip",
        lambda sm: _zip_with([("README.txt", b"hi")]),
        400,
        "not a TensorFlow SavedModel or Keras model",
    ),
    "corrupt zip": (
        "m.zip",
        lambda sm: b"PK\x03\x04 definitely broken" * 20,
        400,
        "corrupt or truncated archive",
    ),
    "truncated tar.gz": (
        "m.tar.gz",
        lambda sm: tar_of(sm)[: len(tar_of(sm)) // 2],
        400,
        "corrupt or truncated archive",
    ),
    "dot-dot path in tar": (
        "m.tgz",
        lambda sm: tar_with([(_info("../evil.txt"), b"x")]),
        400,
        "'..' in a path is not allowed",
    ),
    "dot-dot path in zip": (
        "m.zip",
        lambda sm: _zip_with([("a/../../evil.txt", b"x")]),
        400,
        "'..' in a path is not allowed",
    ),
    "absolute path in tar": (
        "m.tgz",
        lambda sm: tar_with([(_info("/tmp/evil.txt"), b"x")]),
        400,
        "absolute paths are not allowed",
    ),
    "absolute path in zip": (
        "m.zip",
        lambda sm: _zip_with([("/tmp/evil.txt", b"x")]),
        400,
        "absolute paths are not allowed",
    ),
    "symlink in tar": (
        "m.tgz",
        lambda sm: tar_with([(_info("saved_model.pb", tarfile.SYMTYPE, "/etc/passwd"), None)]),
        400,
        "links are not allowed",
    ),
    "hardlink in tar": (
        "m.tgz",
        lambda sm: tar_with([(_info("saved_model.pb", tarfile.LNKTYPE, "/etc/passwd"), None)]),
        400,
        "links are not allowed",
    ),
    "symlink in zip": ("m.zip", lambda sm: _zip_symlink(), 400, "a symlink is not allowed"),
    "device file in tar": (
        "m.tgz",
        lambda sm: tar_with([(_info("dev", tarfile.CHRTYPE), None)]),
        400,
        "device files",
    ),
    "unsupported suffix": ("m.pkl", lambda sm: b"whatever", 400, "unsupported artifact file"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(CASES))
def test_it_rejects_bad_archives_and_leaves_nothing(client, deploy_auth, savedmodel_dir, case):
    filename, build, status, message = CASES[case]
    response = _post(client, deploy_auth, filename, build(savedmodel_dir))
    assert response.status_code == status, response.content
    assert message in response.json()["error"]
    assert response.json()["code"] == "invalid"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_rejects_an_upload_over_the_size_limit(client, deploy_auth, keras_model_file, settings):
    settings.MODELGATE_MAX_UPLOAD_BYTES = 1000
    response = _post(client, deploy_auth, "m.keras", keras_model_file.read_bytes())
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert "limit" in response.json()["error"] and "1000 bytes" in response.json()["error"]
    assert_nothing_left()


@pytest.mark.django_db
def test_the_service_names_the_size_and_the_limit(alice, keras_model_file, settings):
    from core.errors import PayloadTooLarge
    from registry.services import version_register

    settings.MODELGATE_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(PayloadTooLarge) as caught:
        version_register(
            model_name="churn", upload=keras_model_file, filename="m.keras", actor=alice
        )
    size = keras_model_file.stat().st_size
    assert caught.value.message == f"the artifact is {size} bytes; the limit is 1000 bytes"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_stops_a_zip_bomb(client, deploy_auth, savedmodel_dir, settings):
    settings.MODELGATE_MAX_UPLOAD_BYTES = 1_000_000
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * 5_000_000)
    assert len(zipped.getvalue()) < 100_000  # small on the wire, 5 MB expanded
    response = _post(client, deploy_auth, "m.zip", zipped.getvalue())
    assert response.status_code == 413
    assert "expands to more than the limit of 1000000 bytes" in response.json()["error"]
    assert_nothing_left()


@pytest.mark.django_db
def test_it_rejects_an_archive_with_too_many_files(client, deploy_auth, settings):
    settings.MODELGATE_MAX_ARCHIVE_FILES = 5
    data = tar_with([(_info(f"f{i}.txt"), b"x") for i in range(10)])
    response = _post(client, deploy_auth, "m.tgz", data)
    assert response.status_code == 400
    assert response.json()["error"] == "the archive has more than 5 entries"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_rejects_a_bad_model_name(client, deploy_auth, keras_model_file):
    upload = SimpleUploadedFile("m.keras", keras_model_file.read_bytes())
    response = client.post("/api/v1/models/Bad_Name/versions", {"artifact": upload}, **deploy_auth)
    assert response.status_code == 400
    assert "invalid model name 'Bad_Name'" in response.json()["error"]
    assert_nothing_left()


@pytest.mark.django_db
def test_it_rejects_a_dataset_that_does_not_fit_the_model(alice, keras_model_file, npz_dataset):
    from core.errors import InvalidInput
    from registry.models import Artifact, Dataset, ModelVersion, RegisteredModel
    from registry.services import dataset_create, version_register

    wide = dataset_create(
        name="wide", upload=npz_dataset(width=6), filename="wide.npz", actor=alice
    )
    with pytest.raises(InvalidInput) as caught:
        version_register(
            model_name="churn",
            upload=keras_model_file,
            filename="m.keras",
            actor=alice,
            holdout_dataset=wide,
        )
    assert caught.value.message == (
        "the holdout dataset does not match the model: the dataset has 6 feature columns but "
        "input 'features' takes 4 values per row (shape [-1, 4])"
    )
    # The dataset stays (it was created on purpose); nothing of the version does.
    assert Dataset.objects.count() == 1
    assert (RegisteredModel.objects.count(), ModelVersion.objects.count()) == (0, 0)
    assert Artifact.objects.count() == 0
    assert files_under(settings.MODELGATE_ARTIFACT_ROOT) == []
    assert files_under(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.django_db
def test_it_rejects_bad_metadata(client, deploy_auth, keras_model_file):
    cases = [
        ({"training_metrics": "{not json"}, "training_metrics is not valid JSON"),
        ({"training_metrics": '{"acc": "high"}'}, "training metric 'acc' must be a finite number"),
        ({"run_url": "ftp://x"}, "run_url 'ftp://x' is not an http(s) URL"),
        ({"environment": "nope"}, "environment 'nope' does not exist"),
        ({"holdout_dataset": "999"}, "holdout dataset 999 does not exist"),
        ({"tags": "ok,bad tag"}, "invalid tag 'bad tag'"),
    ]
    for fields, message in cases:
        response = _post(client, deploy_auth, "m.keras", keras_model_file.read_bytes(), **fields)
        assert response.status_code == 400, fields
        assert message in response.json()["error"], (fields, response.json())
    assert_nothing_left()
