"""An experiment whose split is gone stops saying "Running 50/50": the list and its page say
which arm takes no traffic now."""

from __future__ import annotations

import pytest

from monitoring.experiments import experiment_analyze, experiment_split_gone, experiment_start

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(split, alice):
    return experiment_start(
        deployment=split,
        name="bigger net",
        control_version=1,
        treatment_version=2,
        metric="conversion",
        mde=0.10,
        baseline=0.10,
        actor=alice,
    )


def _all_to_v1(alice):
    from serving.deploy import deployment_deploy

    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="back to v1 only",
    )


def test_it_runs_while_both_arms_serve(running):
    assert experiment_split_gone(running, {1: 50, 2: 50}) == ""
    assert experiment_split_gone(running, {1: 100}) == "v2 takes no traffic now"
    assert experiment_split_gone(running, {3: 100}) == "v1 and v2 take no traffic now"


def test_the_page_and_the_list_say_the_split_is_gone(client, bob, running, alice):
    client.force_login(bob)
    base = "/monitoring/churn/production/experiments/"
    assert "Split gone" not in client.get(base).content.decode()
    _all_to_v1(alice)
    analysis = experiment_analyze(running)
    assert analysis["split_gone"] == "v2 takes no traffic now"
    assert analysis["weights"] == {1: 50, 2: 50} and analysis["weights_now"] == {1: 100}
    listing = client.get(base).content.decode()
    assert "Split gone" in listing and "v2 takes no traffic now" in listing
    page = client.get(f"{base}{running.pk}/").content.decode()
    assert "Split gone" in page and "50% planned · 0% now" in page
    assert ">Running<" not in page
