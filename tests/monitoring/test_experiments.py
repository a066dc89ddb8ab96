"""A/B experiments end to end: start, analyse from logs and feedback, promote or stop."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from core.errors import Conflict, InvalidInput
from core.models import AuditEntry
from monitoring import abstats
from monitoring.experiments import (
    experiment_analyze,
    experiment_promote,
    experiment_start,
    experiment_stop,
)
from monitoring.feedback import feedback_record_bulk
from monitoring.models import Experiment
from serving.constants import EventKind
from tests.serving.conftest import auth

pytestmark = pytest.mark.django_db
ROW = [[0.0, 0.0, 0.0, 0.0]]


@pytest.fixture
def experiment(split, alice):
    started = experiment_start(
        deployment=split,
        name="bigger net",
        control_version=1,
        treatment_version=2,
        metric="conversion",
        mde=0.10,
        baseline=0.10,
        actor=alice,
    )
    # Logged traffic in these tests is stamped "now"; start a minute earlier so it all counts.
    Experiment.objects.filter(pk=started.pk).update(
        started_at=started.started_at - timedelta(minutes=1)
    )
    started.refresh_from_db()
    return started


def _arm(log_rows, deployment, version, n, conversions, alice, labelled=None):
    variant = "primary" if version == 1 else "candidate"
    ids = log_rows(deployment, ROW * n, version=version, variant=variant)
    labelled = n if labelled is None else labelled
    items = [(f"{rid}-0", 1 if i < conversions else 0) for i, rid in enumerate(ids[:labelled])]
    if items:
        feedback_record_bulk(items=items, actor=alice)


def test_a_known_better_treatment_wins_exactly_at_the_planned_sample_size(
    experiment, split, log_rows, alice
):
    required = abstats.sample_size_proportions(0.10, 0.10)
    assert required == 199  # 10% -> 20%, alpha 0.05, power 0.8
    control_hits, treatment_hits = round(0.10 * required), round(0.20 * required)
    _arm(log_rows, split, 1, required, control_hits, alice, labelled=required - 1)
    _arm(log_rows, split, 2, required, treatment_hits, alice)
    early = experiment_analyze(experiment)
    assert early["verdict"] == abstats.KEEP_RUNNING
    assert early["still_needed"] == [1, 0]
    # The last control label arrives: the planned size is reached, and the treatment wins.
    from monitoring.models import PredictionLog

    last = PredictionLog.objects.filter(version=1).exclude(feedback__isnull=False).get()
    feedback_record_bulk(items=[(f"{last.request_id}-0", 0)], actor=alice)
    analysis = experiment_analyze(experiment)
    assert analysis["verdict"] == abstats.TREATMENT_WINS
    assert [a["exposures"] for a in analysis["arms"]] == [required, required]
    assert analysis["comparison"]["lift"] == pytest.approx(
        (treatment_hits - control_hits) / required
    )
    assert analysis["comparison"]["p_value"] < 0.05
    assert not analysis["srm"]["flagged"]


def test_an_a_a_test_finds_no_difference(experiment, split, log_rows, alice):
    _arm(log_rows, split, 1, 250, 25, alice)
    _arm(log_rows, split, 2, 250, 25, alice)
    analysis = experiment_analyze(experiment)
    assert analysis["comparison"]["p_value"] == pytest.approx(1.0)
    assert analysis["verdict"] == abstats.NO_DIFFERENCE


def test_a_skewed_assignment_is_a_sample_ratio_mismatch(experiment, split, log_rows, alice):
    _arm(log_rows, split, 1, 300, 30, alice)
    _arm(log_rows, split, 2, 150, 45, alice)
    analysis = experiment_analyze(experiment)
    assert analysis["srm"]["flagged"] and analysis["srm"]["p_value"] < 0.001
    assert analysis["verdict"] == abstats.SRM


def test_promote_deploys_the_winner_and_stop_returns_traffic(experiment, split, log_rows, alice):
    with pytest.raises(Conflict, match="the treatment has not won"):
        experiment_promote(experiment_id=experiment.pk, actor=alice)
    _arm(log_rows, split, 1, 199, 20, alice)
    _arm(log_rows, split, 2, 199, 40, alice)
    promoted = experiment_promote(experiment_id=experiment.pk, actor=alice)
    assert promoted.status == "promoted" and promoted.result["verdict"] == abstats.TREATMENT_WINS
    event = split.events.order_by("-created_at", "-id").first()
    assert event.kind == EventKind.DEPLOYED
    assert event.after == [{"version": 2, "weight": 100, "role": "primary"}]
    assert "experiment 'bigger net': promote v2" in event.reason
    assert AuditEntry.objects.filter(action="experiment.promoted").exists()
    with pytest.raises(Conflict, match="already promoted"):
        experiment_stop(experiment_id=experiment.pk, actor=alice)


def test_stop_sends_all_traffic_to_the_control(experiment, split, alice):
    stopped = experiment_stop(experiment_id=experiment.pk, actor=alice)
    assert stopped.status == "stopped" and stopped.ended_at is not None
    event = split.events.order_by("-created_at", "-id").first()
    assert event.kind == EventKind.TRAFFIC_CHANGED
    assert event.after == [{"version": 1, "weight": 100, "role": "primary"}]


def test_it_refuses_versions_that_do_not_serve_and_a_second_experiment(experiment, split, alice):
    with pytest.raises(
        InvalidInput,
        match=r"treatment v3 does not serve traffic in churn/production \(serving: v1 50%, v2 50%",
    ):
        experiment_start(
            deployment=split,
            name="x",
            control_version=1,
            treatment_version=3,
            metric="conversion",
            mde=0.1,
            actor=alice,
        )
    with pytest.raises(Conflict, match="already runs an experiment"):
        experiment_start(
            deployment=split,
            name="x",
            control_version=2,
            treatment_version=1,
            metric="conversion",
            mde=0.1,
            actor=alice,
        )


def test_the_api_and_pages_show_the_analysis(client, split, log_rows, alice, bob, deploy_key):
    url = "/api/v1/models/churn/deployments/production/experiments"
    body = {
        "name": "api",
        "control_version": 1,
        "treatment_version": 2,
        "metric": "outcome",
        "mde": 0.5,
    }
    created = client.post(
        url, json.dumps(body), content_type="application/json", **auth(deploy_key)
    )
    assert created.status_code == 201, created.content
    experiment_id = created.json()["id"]
    detail = client.get(f"{url}/{experiment_id}", **auth(deploy_key)).json()
    assert detail["analysis"]["verdict"] == abstats.KEEP_RUNNING
    assert detail["analysis"]["comparison"]["test"] == "welch t"
    client.force_login(bob)
    page = client.get(f"/monitoring/churn/production/experiments/{experiment_id}/")
    assert page.status_code == 200 and "Keep running: not enough data yet" in page.content.decode()
    assert (
        client.post(f"/monitoring/churn/production/experiments/{experiment_id}/stop").status_code
        == 403
    )
    client.logout()
    stopped = client.post(f"{url}/{experiment_id}/stop", **auth(deploy_key))
    assert stopped.status_code == 200 and stopped.json()["status"] == "stopped"
    again = client.post(f"{url}/{experiment_id}/stop", **auth(deploy_key))
    assert again.status_code == 409
    client.force_login(alice)
    listing = client.get("/monitoring/churn/production/experiments/")
    assert "api" in listing.content.decode() and "Start an experiment" in listing.content.decode()


def test_the_console_starts_and_promotes_with_the_deploy_role(client, split, alice, bob):
    form = {
        "name": "console",
        "control_version": 1,
        "treatment_version": 2,
        "metric": "accuracy",
        "alpha": 0.05,
        "power": 0.8,
        "mde": 0.05,
    }
    client.force_login(bob)
    assert client.post("/monitoring/churn/production/experiments/", form).status_code == 403
    client.force_login(alice)
    page = client.get("/monitoring/churn/production/experiments/").content.decode()
    assert '<option value="1" selected>v1 (50% primary)</option>' in page
    assert '<option value="2" selected>v2 (50% candidate)</option>' in page
    listing = "/monitoring/churn/production/experiments/"
    typo = client.post(listing, {**form, "treatment_version": 3})
    assert typo.status_code == 400
    assert "3 is not one of the available choices" in typo.content.decode()
    bad = client.post("/monitoring/churn/production/experiments/", {**form, "treatment_version": 1})
    assert bad.status_code == 400
    assert "control and treatment must be different versions" in bad.content.decode()
    started = client.post("/monitoring/churn/production/experiments/", form, follow=True)
    assert "Experiment &#x27;console&#x27; started." in started.content.decode()
    experiment = Experiment.objects.get()
    url = f"/monitoring/churn/production/experiments/{experiment.pk}"
    refused = client.post(f"{url}/promote", follow=True)
    assert "the treatment has not won" in refused.content.decode()
    forced = client.post(f"{url}/promote", {"force": "on"}, follow=True)
    assert "v2 now serves 100%." in forced.content.decode()
    assert Experiment.objects.get().status == "promoted"
