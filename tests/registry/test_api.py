"""The registry REST API: reads, uploads, permissions and the error shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import ModelVersion
from registry.services import dataset_create, environment_create, version_register
from tests.registry.conftest import assert_nothing_left

DIGEST = "sha256:" + "b" * 64


def _artifact(path, name="m.keras"):
    return SimpleUploadedFile(name, path.read_bytes())


@pytest.mark.django_db
def test_it_registers_a_version_over_the_api(
    client, deploy_auth, alice, keras_model_file, npz_dataset
):
    environment_create(
        name="cpu", python="3.11", tensorflow="2.21", base_image=f"python@{DIGEST}", actor=alice
    )
    holdout = dataset_create(name="h", upload=npz_dataset(), filename="h.npz", actor=alice)
    response = client.post(
        "/api/v1/models/churn/versions",
        {
            "artifact": _artifact(keras_model_file),
            "environment": "cpu",
            "holdout_dataset": holdout.pk,
            "reference_dataset": holdout.pk,
            "tags": ["a,b", "c"],
            "training_metrics": '{"auc": 0.8}',
            "source_commit": "deadbeef",
            "run_url": "https://ci.example.com/1",
        },
        **deploy_auth,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["model"], body["number"], body["state"]) == ("churn", 1, "registered")
    assert body["tags"] == ["a", "b", "c"]
    assert body["environment"] == "cpu"
    assert body["holdout_dataset"] == {"id": holdout.pk, "name": "h"}
    assert body["training_metrics"] == {"auc": 0.8}
    assert body["signature"]["inputs"] == [
        {"name": "features", "dtype": "float32", "shape": [-1, 4]}
    ]
    assert body["artifact"]["size"] == keras_model_file.stat().st_size
    assert body["created_by"] == "alice"


@pytest.mark.django_db
def test_it_lists_and_shows_models_and_versions(
    client, read_auth, alice, keras_model_file, keras_model_file_v2
):
    for f in (keras_model_file, keras_model_file_v2):
        version_register(model_name="churn", upload=f, filename="m.keras", actor=alice)
    models = client.get("/api/v1/models", **read_auth).json()
    assert [(m["name"], m["version_count"], m["latest_version"]["number"]) for m in models] == [
        ("churn", 2, 2)
    ]
    detail = client.get("/api/v1/models/churn", **read_auth).json()
    assert [v["number"] for v in detail["versions"]] == [2, 1]
    listed = client.get("/api/v1/models/churn/versions", **read_auth).json()
    assert [v["number"] for v in listed] == [2, 1]
    one = client.get("/api/v1/models/churn/versions/1", **read_auth).json()
    assert one["number"] == 1 and one["format"] == "keras"


@pytest.mark.django_db
def test_it_says_what_was_not_found(client, read_auth, alice, keras_model_file):
    version_register(model_name="churn", upload=keras_model_file, filename="m.keras", actor=alice)
    cases = {
        "/api/v1/models/nope": "model 'nope' does not exist",
        "/api/v1/models/churn/versions/7": "model 'churn' has no version 7",
        "/api/v1/environments/nope": "environment 'nope' does not exist",
        "/api/v1/datasets/99": "dataset 99 does not exist",
    }
    for url, message in cases.items():
        response = client.get(url, **read_auth)
        assert response.status_code == 404
        assert response.json() == {"error": message, "code": "not_found"}


@pytest.mark.django_db
def test_it_needs_a_key_or_session(client, keras_model_file):
    assert client.get("/api/v1/models").status_code == 401
    response = client.post(
        "/api/v1/models/churn/versions", {"artifact": _artifact(keras_model_file)}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert_nothing_left()


@pytest.mark.django_db
def test_it_needs_the_deploy_scope_to_upload(client, read_auth, keras_model_file):
    response = client.post(
        "/api/v1/models/churn/versions", {"artifact": _artifact(keras_model_file)}, **read_auth
    )
    assert response.status_code == 403
    assert response.json()["error"] == "This action needs the 'deploy' permission."
    assert_nothing_left()


@pytest.mark.django_db
def test_it_refuses_a_viewer_session(client, bob, keras_model_file):
    client.force_login(bob)
    assert client.get("/api/v1/models").status_code == 200
    response = client.post(
        "/api/v1/models/churn/versions", {"artifact": _artifact(keras_model_file)}
    )
    assert response.status_code == 403
    assert_nothing_left()


@pytest.mark.django_db
def test_a_deployer_session_may_upload(client, alice, keras_model_file):
    client.force_login(alice)
    response = client.post(
        "/api/v1/models/churn/versions", {"artifact": _artifact(keras_model_file)}
    )
    assert response.status_code == 201
    assert ModelVersion.objects.get().created_by == alice


@pytest.mark.django_db
def test_it_requires_the_artifact_file(client, deploy_auth):
    response = client.post("/api/v1/models/churn/versions", {"tags": "x"}, **deploy_auth)
    assert response.status_code == 400
    assert response.json()["error"] == "the 'artifact' file is required (multipart/form-data)"


@pytest.mark.django_db
def test_it_creates_and_reads_environments(client, deploy_auth):
    payload = {
        "name": "gpu",
        "python": "3.11",
        "tensorflow": "2.21",
        "cuda": "12.4",
        "cudnn": "9.1",
        "base_image": f"nvcr.io/tf@{DIGEST}",
        "gpu_count": 1,
        "env_vars": {"A": "1"},
        "extra_packages": ["scipy"],
    }
    created = client.post(
        "/api/v1/environments", payload, content_type="application/json", **deploy_auth
    )
    assert created.status_code == 201, created.content
    assert created.json()["gpu_count"] == 1
    again = client.post(
        "/api/v1/environments", payload, content_type="application/json", **deploy_auth
    )
    assert again.status_code == 409
    unpinned = client.post(
        "/api/v1/environments",
        {**payload, "name": "x", "base_image": "tf:latest"},
        content_type="application/json",
        **deploy_auth,
    )
    assert unpinned.status_code == 400
    assert "pinned by digest" in unpinned.json()["error"]
    assert [e["name"] for e in client.get("/api/v1/environments", **deploy_auth).json()] == ["gpu"]
    assert client.get("/api/v1/environments/gpu", **deploy_auth).json()["cuda"] == "12.4"


@pytest.mark.django_db
def test_it_uploads_and_reads_datasets(client, deploy_auth, read_auth):
    upload = SimpleUploadedFile("d.csv", b"a,b,y\n1,2,0\n3,4,1\n")
    response = client.post("/api/v1/datasets", {"file": upload, "label_column": "y"}, **deploy_auth)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["row_count"], body["schema"]["label"]) == ("d.csv", 2, "y")
    assert (
        client.get(f"/api/v1/datasets/{body['id']}", **read_auth).json()["sha256"] == body["sha256"]
    )
    assert len(client.get("/api/v1/datasets", **read_auth).json()) == 1
    ragged = client.post(
        "/api/v1/datasets", {"file": SimpleUploadedFile("r.csv", b"a,b\n1,2\n3\n")}, **deploy_auth
    )
    assert ragged.status_code == 400 and "malformed CSV" in ragged.json()["error"]
    denied = client.post(
        "/api/v1/datasets", {"file": SimpleUploadedFile("d.csv", b"a\n1\n")}, **read_auth
    )
    assert denied.status_code == 403


@pytest.mark.django_db
def test_the_schema_describes_the_registry_endpoints(client, alice):
    client.force_login(alice)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/v1/models/{name}/versions" in text
    assert "model_versions_create" in text
