"""Batch jobs: scored through the runtime, progress and downloads, cancellation, bad input."""

from __future__ import annotations

import io

import numpy as np
import pytest

from jobs.batch_jobs import BATCH_JOBS, batch_job_create, batch_job_execute
from jobs.models import BatchJob
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(alice, tmp_path):
    from registry.services import dataset_create

    x = np.random.default_rng(1).normal(size=(1000, 4)).astype("float32")
    path = tmp_path / "rows.npz"
    np.savez(path, features=x)
    return x, dataset_create(name="rows", upload=path, filename="rows.npz", actor=alice)


def test_it_scores_a_dataset_and_serves_npz_and_csv(
    client, churn, rows, deploy_key, keras_outputs, django_capture_on_commit_callbacks, monkeypatch
):
    x, dataset = rows
    queued = []
    monkeypatch.setattr(BATCH_JOBS, "enqueue", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/batch-jobs",
            {"model": "churn", "version": 1, "dataset": dataset.pk, "batch_size": 256},
            content_type="application/json",
            **auth(deploy_key),
        )
    assert response.status_code == 202 and response.json()["rows_total"] == 1000
    job_id = response.json()["id"]
    assert queued == [job_id]
    job = batch_job_execute(job_id=job_id, worker_host="w1")
    assert job.status == "succeeded" and job.rows_done == 1000 and job.rows_per_second > 0
    body = client.get(f"/api/v1/batch-jobs/{job_id}", **auth(deploy_key)).json()
    assert body["downloads"]["npz"].endswith("predictions.npz") and body["eta_seconds"] is None
    npz = client.get(body["downloads"]["npz"], **auth(deploy_key))
    scores = np.load(io.BytesIO(b"".join(npz.streaming_content)))["score"]
    np.testing.assert_allclose(scores, keras_outputs(1, x), rtol=1e-5, atol=1e-6)
    csv = b"".join(client.get(body["downloads"]["csv"], **auth(deploy_key)).streaming_content)
    lines = csv.decode().splitlines()
    assert lines[0] == "row,score" and len(lines) == 1001
    assert abs(float(lines[1].split(",")[1]) - float(scores[0, 0])) < 1e-6
    assert batch_job_execute(job_id=job_id) is None  # redelivered: idempotent


def test_it_warms_only_its_shapes_and_matches_a_fully_warmed_runtime(
    alice, churn, tmp_path, monkeypatch, settings
):
    from jobs import batch_jobs
    from jobs.validation import suite
    from registry.services import dataset_create

    x = np.random.default_rng(2).normal(size=(1000, 4)).astype("float32")
    warmed = []

    def spy(version, max_batch_size, buckets=None):
        runtime = load_runtime(version, max_batch_size, buckets)
        warmed.append(runtime.buckets)
        return runtime

    load_runtime = suite.load_runtime
    monkeypatch.setattr(batch_jobs, "load_runtime", spy)
    reference = load_runtime(churn[0], 384)  # every bucket, as the serving pool warms it
    expected = np.concatenate(
        [reference.predict({"features": x[s : s + 384]})["score"] for s in range(0, 1000, 384)]
    )
    for save in (np.savez, np.savez_compressed):  # read from disk per batch / parsed whole
        path = tmp_path / f"{save.__name__}.npz"
        save(path, features=x)
        dataset = dataset_create(name="rows", upload=path, filename=path.name, actor=alice)
        job = batch_job_create(
            version=churn[0], dataset=dataset, actor=None, batch_size=384, enqueue=False
        )
        done = batch_job_execute(job_id=job.pk)
        assert done.status == "succeeded", done.error
        folder = batch_jobs.result_root() / str(job.pk)
        with np.load(folder / "predictions.npz") as npz:
            np.testing.assert_array_equal(npz["score"], expected)  # bit for bit
        table = np.loadtxt(folder / "predictions.csv", delimiter=",", skiprows=1)
        np.testing.assert_array_equal(table[:, 0], np.arange(1000))
        np.testing.assert_array_equal(table[:, 1].astype("float32"), expected[:, 0])
    assert warmed == [[256, 384], [256, 384]]  # 1000 = 2 x 384 + 232, padded to 256
    assert not list(batch_jobs.result_root().glob(".job-*"))  # no scratch left behind


def test_job_buckets_are_the_full_batch_and_the_remainders_bucket():
    from jobs.batch_jobs import job_buckets

    assert job_buckets(8192, 4096) == [4096]
    assert job_buckets(1_000_000, 4096) == [1024, 4096]
    assert job_buckets(5, 5) == [5]
    assert job_buckets(1001, 1000) == [1, 1000]


def test_it_cancels_a_queued_job_and_refuses_bad_input(
    client, churn, rows, deploy_key, multi, make_key, bob
):
    _, dataset = rows
    job = batch_job_create(version=churn[0], dataset=dataset, actor=None, enqueue=False)
    cancelled = client.post(f"/api/v1/batch-jobs/{job.pk}/cancel", **auth(deploy_key))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert batch_job_execute(job_id=job.pk) is None
    again = client.post(f"/api/v1/batch-jobs/{job.pk}/cancel", **auth(deploy_key))
    assert again.status_code == 409
    mismatch = client.post(
        "/api/v1/batch-jobs",
        {"model": "multi", "version": 1, "dataset": dataset.pk},
        content_type="application/json",
        **auth(make_key(bob.__class__.objects.get(username="alice"), ["deploy", "read"])),
    )
    assert mismatch.status_code == 400 and "does not match the model" in mismatch.json()["error"]
    viewer = make_key(bob, ["read"])
    denied = client.post(
        "/api/v1/batch-jobs",
        {"model": "churn", "version": 1, "dataset": dataset.pk},
        content_type="application/json",
        **auth(viewer),
    )
    assert denied.status_code == 403
    early = client.get(f"/api/v1/batch-jobs/{job.pk}/predictions.npz", **auth(viewer))
    assert early.status_code == 404 and "no predictions" in early.json()["error"]


def test_a_running_job_stops_at_its_next_batch_when_cancelled(churn, rows, monkeypatch):
    from jobs import batch_jobs

    _, dataset = rows
    job = batch_job_create(
        version=churn[0], dataset=dataset, actor=None, batch_size=64, enqueue=False
    )
    monkeypatch.setattr(batch_jobs, "PROGRESS_SECONDS", 0.0)
    BatchJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    done = batch_job_execute(job_id=job.pk)
    assert done.status == "cancelled" and 0 < done.rows_done < 1000 and not done.result_dir


def test_the_workers_page_marks_stale_workers(client, alice):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.workers import worker_heartbeat_record

    worker_heartbeat_record(hostname="fresh@gpu1", queues=["gpu"])
    old = worker_heartbeat_record(hostname="gone@gpu2", queues=["gpu"])
    type(old).objects.filter(pk=old.pk).update(last_seen=timezone.now() - timedelta(hours=1))
    client.force_login(alice)
    page = client.get("/deployments/workers/").content.decode()
    assert "fresh@gpu1" in page and "gone@gpu2" in page
    assert page.count('class="worker stale"') == 1
    api = {w["hostname"]: w for w in client.get("/api/v1/workers").json()}
    assert api["gone@gpu2"]["stale"] is True and api["fresh@gpu1"]["stale"] is False
    assert api["fresh@gpu1"]["gpu"] is None and api["fresh@gpu1"]["device"] == "CPU"
