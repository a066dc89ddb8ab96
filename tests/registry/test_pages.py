"""Console pages: lists, details, the upload form, environments and datasets, and roles."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import Dataset, EnvironmentSpec, ModelVersion
from registry.services import version_register
from tests.registry.conftest import assert_nothing_left

DIGEST = "sha256:" + "c" * 64


@pytest.fixture
def churn(alice, keras_model_file):
    return version_register(
        model_name="churn",
        upload=keras_model_file,
        filename="m.keras",
        actor=alice,
        tags=["baseline"],
        source_commit="abc1234",
    )


@pytest.mark.django_db
def test_it_redirects_anonymous_visitors_to_login(client):
    response = client.get(reverse("registry:model-list"))
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db
def test_the_dashboard_lists_models(client, bob, churn):
    client.force_login(bob)
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("registry:model-detail", args=["churn"]) in html
    assert reverse("registry:version-detail", args=["churn", 1]) in html


@pytest.mark.django_db
def test_the_model_pages_show_versions_and_lineage(client, bob, churn):
    client.force_login(bob)
    listing = client.get(reverse("registry:model-list")).content.decode()
    assert "churn" in listing and "Register a model version" not in listing
    detail = client.get(reverse("registry:model-detail", args=["churn"])).content.decode()
    assert "v1" in detail and "baseline" in detail and "abc1234" in detail
    version = client.get(reverse("registry:version-detail", args=["churn", 1])).content.decode()
    assert churn.artifact.sha256 in version
    assert "<code>features</code></td><td>float32</td><td>[-1, 4]</td>" in version
    assert "<code>score</code></td><td>float32</td><td>[-1, 1]</td>" in version
    assert 'id="version-extra"' in version


@pytest.mark.django_db
def test_it_shows_a_404_page_for_a_missing_version(client, bob, churn):
    client.force_login(bob)
    response = client.get(reverse("registry:version-detail", args=["churn", 9]))
    assert response.status_code == 404
    assert "model &#x27;churn&#x27; has no version 9" in response.content.decode()


@pytest.mark.django_db
def test_a_deployer_registers_through_the_upload_form(client, alice, keras_model_file):
    client.force_login(alice)
    assert client.get(reverse("registry:version-upload")).status_code == 200
    response = client.post(
        reverse("registry:version-upload"),
        {
            "model_name": "churn",
            "artifact": SimpleUploadedFile("m.keras", keras_model_file.read_bytes()),
            "tags": "a, b",
            "task": "classification",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:version-detail", args=["churn", 1])
    version = ModelVersion.objects.get()
    assert version.tags == ["a", "b"] and version.model.task == "classification"


@pytest.mark.django_db
def test_the_upload_form_shows_service_errors(client, alice):
    client.force_login(alice)
    response = client.post(
        reverse("registry:version-upload"),
        {
            "model_name": "churn",
            "artifact": SimpleUploadedFile("m.keras", b"not a model"),
        },
    )
    assert response.status_code == 400
    assert "not a TensorFlow SavedModel or Keras model" in response.content.decode()
    assert_nothing_left()


@pytest.mark.django_db
def test_a_viewer_cannot_register(client, bob, keras_model_file):
    client.force_login(bob)
    assert client.get(reverse("registry:version-upload")).status_code == 403
    response = client.post(
        reverse("registry:version-upload"),
        {
            "model_name": "churn",
            "artifact": SimpleUploadedFile("m.keras", keras_model_file.read_bytes()),
        },
    )
    assert response.status_code == 403
    assert_nothing_left()


@pytest.mark.django_db
def test_environments_page_creates_for_deployers_only(client, alice, bob):
    url = reverse("registry:environment-list")
    form = {
        "name": "cpu",
        "python": "3.11",
        "tensorflow": "2.21",
        "gpu_count": 0,
        "base_image": f"python@{DIGEST}",
        "env_vars": "A=1\nB = two",
        "extra_packages": "x y",
    }
    client.force_login(bob)
    assert 'id="environment-form"' not in client.get(url).content.decode()
    assert client.post(url, form).status_code == 403
    client.force_login(alice)
    bad = client.post(url, {**form, "base_image": "python:3.11"})
    assert bad.status_code == 400 and "pinned by digest" in bad.content.decode()
    assert client.post(url, form).status_code == 302
    spec = EnvironmentSpec.objects.get()
    assert spec.env_vars == {"A": "1", "B": "two"} and spec.extra_packages == ["x", "y"]
    assert "cpu" in client.get(url).content.decode()


@pytest.mark.django_db
def test_datasets_page_uploads_for_deployers_only(client, alice, bob):
    url = reverse("registry:dataset-list")
    client.force_login(bob)
    denied = client.post(url, {"file": SimpleUploadedFile("d.csv", b"a,y\n1,0\n")})
    assert denied.status_code == 403
    client.force_login(alice)
    response = client.post(
        url,
        {
            "file": SimpleUploadedFile("d.csv", b"a,y\n1,0\n2,1\n"),
            "label_column": "y",
            "name": "tiny",
        },
    )
    assert response.status_code == 302
    assert Dataset.objects.get().name == "tiny"
    page = client.get(url).content.decode()
    assert "tiny" in page and 'id="dataset-form"' in page
