"""A file that is not a Keras model says what it is and what to do, never where the server
keeps uploads."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from registry.modelio import ModelLoadError, load
from registry.services import version_register

URL = "/api/v1/models/churn/versions"


def test_a_text_file_renamed_keras_is_named_as_such_over_the_api(client, deploy_auth, settings):
    upload = SimpleUploadedFile("model.keras", b"just some notes\n")
    response = client.post(URL, {"artifact": upload}, **deploy_auth)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "not a zip at all (a text or other file renamed .keras?)" in error
    assert "model.save('name.keras')" in error
    assert str(settings.FILE_UPLOAD_TEMP_DIR) not in error and "filepath=" not in error
    assert "/tmp" not in error and "File not found" not in error


@pytest.mark.django_db
def test_an_h5_file_and_a_zip_without_config_say_what_they_are(alice, tmp_path):
    h5 = tmp_path / "old.keras"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(InvalidInput, match=r"legacy HDF5 \(.h5\) model renamed to .keras"):
        version_register(model_name="m", upload=h5, filename="old.keras", actor=alice)
    import zipfile

    bare = tmp_path / "bare.keras"
    with zipfile.ZipFile(bare, "w") as archive:
        archive.writestr("notes.txt", "x")
    with pytest.raises(InvalidInput, match="has no config.json at its root"):
        version_register(model_name="m", upload=bare, filename="bare.keras", actor=alice)


def test_load_errors_never_carry_a_server_path(tmp_path):
    broken = tmp_path / "deep" / "dir" / "m.keras"
    broken.parent.mkdir(parents=True)
    import zipfile

    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("config.json", "{not json")
    with pytest.raises(ModelLoadError) as caught:
        load(broken, "keras")
    assert str(tmp_path) not in str(caught.value)
