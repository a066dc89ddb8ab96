"""Drift runs over logged inputs: against a reference dataset or the deployment's own traffic,
per version x variant, with an alert, the Run-now button, the API and the drift page."""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np
import pytest

from core.models import AuditEntry
from monitoring.constants import AlertKind
from monitoring.drift_service import drift_policy_update, drift_run, drift_run_all, feature_names
from monitoring.models import Alert, DriftPolicy, DriftReport
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def referenced(alice, tmp_path, keras_model_file, pool):
    """Model `fraud` v1 with a 2,000-row reference dataset, deployed to production."""
    from registry.services import dataset_create, version_register
    from serving.deploy import deployment_deploy
    from serving.models import Deployment

    path = tmp_path / "reference.npz"
    np.savez(path, features=np.random.default_rng(1).normal(size=(2000, 4)).astype("float32"))
    dataset = dataset_create(name="reference", upload=path, filename="reference.npz", actor=alice)
    from tests.support.validated import mark_validated

    version = version_register(
        model_name="fraud",
        upload=keras_model_file,
        filename="small.keras",
        actor=alice,
        reference_dataset=dataset,
    )
    mark_validated(version, actor=alice)
    deployment_deploy(
        model_name="fraud", deployment_name="production", version_number=1, actor=alice
    )
    return Deployment.objects.get(model__name="fraud", name="production")


def _current(shift_feature=None, n=2000, seed=2):
    rows = np.random.default_rng(seed).normal(size=(n, 4))
    if shift_feature is not None:
        rows[:, shift_feature] += 1.0
    return rows


def test_it_names_features_by_input_and_position():
    signature = {
        "inputs": [
            {"name": "features", "dtype": "float32", "shape": [-1, 2]},
            {"name": "age", "dtype": "float32", "shape": [-1]},
        ]
    }
    assert feature_names(signature) == ["features[0]", "features[1]", "age"]


def test_it_flags_the_shifted_feature_only_and_raises_one_alert(referenced, log_rows):
    # Evidently judges a large reference by Wasserstein >= 0.1 std: a sample noisy enough to
    # reach that by chance (a few hundred rows) would flag stable features too.
    log_rows(referenced, _current(shift_feature=2, n=2000))
    reports = drift_run(deployment=referenced)
    assert len(reports) == 1
    report = reports[0]
    assert (report.version, report.variant, report.reference_label) == (
        1,
        "primary",
        f"dataset {referenced.model.versions.get().reference_dataset}",
    )
    assert (report.n_reference, report.n_current) == (2000, 2000)
    drifted = [f["name"] for f in report.features if f["drifted"]]
    assert drifted == ["features[2]"]
    assert {f["test"] for f in report.features} == {"wasserstein"}  # reference > 1000 rows
    assert report.share_drifted == 0.25 and not report.dataset_drift
    assert not Alert.objects.exists()
    # Lower the dataset threshold: now it alerts, once, until resolved.
    drift_policy_update(deployment=referenced, actor=None, changes={"share_threshold": 0.25})
    drift_run(deployment=referenced)
    drift_run(deployment=referenced)
    alert = Alert.objects.get()
    assert alert.kind == AlertKind.DRIFT
    assert "v1 primary: 25% of features drifted (features[2])" in alert.message


def test_it_judges_each_variant_against_the_traffic_after_the_deploy(split, log_rows):
    drift_policy_update(
        deployment=split,
        actor=None,
        changes={"reference": "traffic", "window_minutes": 30, "reference_hours": 1},
    )
    hour_ago = time.time() - 5400  # inside the reference hour after the (moved) deploy
    reference_event = split.events.order_by("-created_at").first()
    from serving.models import DeploymentEvent

    DeploymentEvent.objects.filter(pk=reference_event.pk).update(
        created_at=reference_event.created_at - timedelta(hours=2)
    )
    log_rows(split, _current(seed=3), version=1, at=hour_ago)
    log_rows(split, _current(seed=4), version=2, variant="candidate", at=hour_ago)
    log_rows(split, _current(seed=5), version=1)
    log_rows(split, _current(shift_feature=0, seed=6), version=2, variant="candidate")
    reports = {(r.version, r.variant): r for r in drift_run(deployment=split)}
    assert set(reports) == {(1, "primary"), (2, "candidate")}, [r.skipped for r in reports.values()]
    assert [r.skipped for r in reports.values()] == ["", ""]
    assert (
        reports[(1, "primary")].features[0]["test"] == "wasserstein"
    )  # 2,000-row reference: Wasserstein
    assert not any(f["drifted"] for f in reports[(1, "primary")].features)
    assert [f["name"] for f in reports[(2, "candidate")].features if f["drifted"]] == [
        "features[0]"
    ]


def test_it_records_why_it_skipped(referenced, log_rows):
    log_rows(referenced, _current(n=5))
    (report,) = drift_run(deployment=referenced)
    assert report.skipped == "too few rows: 2000 reference, 5 current (at least 30 each)"
    assert report.features == [] and report.share_drifted is None


def test_the_periodic_run_skips_disabled_deployments(referenced, log_rows):
    log_rows(referenced, _current())
    assert drift_run_all() == 1
    DriftPolicy.objects.update_or_create(deployment=referenced, defaults={"enabled": False})
    assert drift_run_all() == 0
    assert DriftReport.objects.count() == 1


def test_run_now_is_audited_and_needs_the_deploy_role(client, referenced, log_rows, alice, bob):
    log_rows(referenced, _current(shift_feature=1))
    client.force_login(bob)
    assert client.post("/monitoring/fraud/production/drift/run").status_code == 403
    client.force_login(alice)
    response = client.post("/monitoring/fraud/production/drift/run", follow=True)
    assert "1 report(s), 0 with dataset drift." in response.content.decode()
    assert AuditEntry.objects.filter(action="drift.run").count() == 1
    page = client.get("/monitoring/fraud/production/drift/?window=1h&feature=features[1]")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-figure="chart-histogram"' in html and "features[1]: reference vs current" in html
    assert 'data-figure="chart-drift-share"' in html and "wasserstein" in html


def test_the_api_lists_and_runs_drift(client, referenced, log_rows, deploy_key, make_key, bob):
    log_rows(referenced, _current())
    url = "/api/v1/models/fraud/deployments/production/drift"
    ran = client.post(f"{url}/run", **auth(deploy_key))
    assert ran.status_code == 201 and len(ran.json()) == 1
    listed = client.get(url, **auth(deploy_key))
    assert listed.json()[0]["n_current"] == 2000
    viewer_key = make_key(bob, ["read"])
    assert client.post(f"{url}/run", **auth(viewer_key)).status_code == 403
    assert client.get(f"{url}?window=bogus", **auth(deploy_key)).status_code == 400


def test_bad_drift_settings_are_refused(referenced):
    from core.errors import InvalidInput

    with pytest.raises(InvalidInput, match="invalid drift setting: share_threshold"):
        drift_policy_update(deployment=referenced, actor=None, changes={"share_threshold": 2})
    with pytest.raises(InvalidInput, match="unknown drift setting"):
        drift_policy_update(deployment=referenced, actor=None, changes={"colour": "red"})
    assert not DriftPolicy.objects.exists()


def test_a_drift_alert_reaches_the_dashboard_and_settings_save_from_the_page(
    client, referenced, log_rows, alice
):
    client.force_login(alice)
    saved = client.post(
        "/monitoring/fraud/production/drift/policy",
        {
            "enabled": "on",
            "method": "psi",
            "reference": "dataset",
            "reference_hours": 24,
            "window_minutes": 60,
            "min_rows": 30,
            "share_threshold": 0.25,
        },
        follow=True,
    )
    assert "Drift settings saved." in saved.content.decode()
    assert AuditEntry.objects.filter(action="drift_policy.update").count() == 1
    log_rows(referenced, _current(shift_feature=0))
    (report,) = drift_run(deployment=referenced)
    assert report.method == "psi" and report.features[0]["band"] == "major"
    assert report.dataset_drift
    dashboard = client.get("/").content.decode()
    assert "Data drift" in dashboard and "v1 primary: 25% of features drifted" in dashboard
    refused = client.post(
        "/monitoring/fraud/production/drift/policy",
        {
            "method": "psi",
            "reference": "dataset",
            "reference_hours": 24,
            "window_minutes": 0,
            "min_rows": 30,
            "share_threshold": 0.5,
        },
        follow=True,
    )
    assert "Drift settings not saved" in refused.content.decode()
    assert DriftPolicy.objects.get().window_minutes == 60
