"""Console pages of validation policies and batch jobs."""

from __future__ import annotations

import pytest

from jobs.validation.policy import policy_effective

pytestmark = pytest.mark.django_db


def test_a_deployer_edits_the_policy_and_a_viewer_only_reads_it(client, churn, alice, bob):
    client.force_login(alice)
    url = "/deployments/policy/churn"
    assert "load seconds" in client.get(url).content.decode()
    form = {
        **{k: v for k, v in policy_effective(churn[0].model).items() if not isinstance(v, bool)},
        "performance_batch_sizes": "1 16",
        "parity_fail_on": ["python", "cuda"],
        "load_seconds": "3",
    }
    response = client.post(url, form, follow=True)
    assert "Policy saved" in response.content.decode()
    policy = policy_effective(churn[0].model)
    assert policy["load_seconds"] == 3.0 and policy["performance_batch_sizes"] == [1, 16]
    assert policy["parity_fail_on"] == ["python", "cuda"]
    bad = client.post(url, {**form, "load_seconds": "-1"})
    assert "load_seconds must lie between" in bad.content.decode()
    client.force_login(bob)
    assert "Save policy" not in client.get(url).content.decode()
    assert client.post(url, form).status_code == 403


def test_the_batch_job_pages_start_show_and_poll_a_job(client, churn, alice, tmp_path):
    import numpy as np

    from registry.services import dataset_create

    path = tmp_path / "d.npz"
    np.savez(path, features=np.ones((10, 4), "float32"))
    dataset = dataset_create(name="d", upload=path, filename="d.npz", actor=alice)
    client.force_login(alice)
    form = client.get("/deployments/batch-jobs/").content.decode()
    assert '<option value="churn:1">churn v1 (validated)</option>' in form
    assert f'<option value="{dataset.pk}">d · 10 rows · #{dataset.pk}</option>' in form
    response = client.post(
        "/deployments/batch-jobs/",
        {"version": "churn:1", "dataset": dataset.pk, "batch_size": 8},
        follow=True,
    )
    page = response.content.decode()
    assert "Batch job #" in page and 'hx-trigger="every 2s"' in page and "0 / 10 rows" in page
    missing = client.post(
        "/deployments/batch-jobs/",
        {"version": "churn:7", "dataset": dataset.pk, "batch_size": 8},
    )
    assert "Select a valid choice. churn:7 is not one of the available choices." in (
        missing.content.decode()
    )
