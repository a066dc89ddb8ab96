"""Rollback steps back through history, never forward; "restores #N" names the event whose
state comes back, the same on the button, the history rows, the API and the CLI-free service."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from registry.services import version_register
from serving.deploy import deployment_deploy, deployment_rollback, deployment_set_traffic
from serving.history import rollback_preview
from serving.models import Deployment
from tests.serving.conftest import auth
from tests.support.validated import mark_validated

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(churn, alice, keras_model_file):
    v3 = version_register(
        model_name="churn", upload=keras_model_file, filename="small.keras", actor=alice
    )
    mark_validated(v3, actor=alice)
    return [
        deployment_deploy(
            model_name="churn", deployment_name="production", version_number=n, actor=alice
        )
        for n in (1, 2, 3)
    ]


def _serving() -> list[int]:
    dep = Deployment.objects.get(model__name="churn", name="production")
    return sorted(v.version.number for v in dep.variants.all())


def _back(alice):
    return deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="step back"
    )


def test_two_rollbacks_step_back_twice_then_stop(three, alice):
    first, second, _ = three
    assert _back(alice).restored_event == second and _serving() == [2]
    assert _back(alice).restored_event == first and _serving() == [1]
    with pytest.raises(Conflict, match="no earlier state"):
        _back(alice)
    assert _serving() == [1]


def test_an_undone_state_stays_undone_after_a_new_deploy(churn, alice, three):
    first = three[0]
    _back(alice)  # v3 -> v2
    _back(alice)  # v2 -> v1
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=3, actor=alice
    )
    assert _back(alice).restored_event == first and _serving() == [1]
    with pytest.raises(Conflict, match="no earlier state"):
        _back(alice)


def test_stepping_back_after_a_restore_goes_before_the_restored_state(three, alice):
    first, second, third = three
    _back(alice)
    restore = deployment_rollback(
        model_name="churn",
        deployment_name="production",
        actor=alice,
        reason="v3 after all",
        to_event_id=third.pk,
    )
    assert restore.restored_event == third and _serving() == [3]
    assert _back(alice).restored_event == second and _serving() == [2]


def test_restoring_a_rollback_row_credits_the_event_that_made_the_state(three, alice):
    first, second, _ = three
    rollback = _back(alice)
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=1, actor=alice
    )
    restore = deployment_rollback(
        model_name="churn",
        deployment_name="production",
        actor=alice,
        reason="again",
        to_event_id=rollback.pk,
    )
    assert restore.restored_event == second and _serving() == [2]


def test_traffic_changes_are_steps_and_the_preview_names_the_target(three, alice):
    _, _, third = three
    split = deployment_set_traffic(
        model_name="churn",
        deployment_name="production",
        variants=[
            {"version": 3, "weight": 90, "role": "primary"},
            {"version": 2, "weight": 10, "role": "candidate"},
        ],
        actor=alice,
        reason="canary",
    )
    preview = rollback_preview(Deployment.objects.get(name="production"))
    assert preview.restored == third and preview.undone == split
    assert preview.state == [{"version": 3, "weight": 100, "role": "primary"}]
    assert _back(alice).restored_event == third and _serving() == [3]


def test_the_api_and_the_page_show_where_the_rollback_goes(client, three, alice, deploy_key):
    second = three[1]
    detail = client.get("/api/v1/models/churn/deployments/production", **auth(deploy_key)).json()
    assert detail["rollback_to"]["event"] == second.pk
    assert detail["rollback_to"]["variants"] == [{"version": 2, "weight": 100, "role": "primary"}]
    client.force_login(alice)
    html = client.get("/deployments/churn/production/").content.decode()
    assert f"Roll back to v2 · state of #{second.pk}" in html
    assert 'id="rollback-dialog"' in html and "v3 100%" in html
    response = client.post(
        "/api/v1/models/churn/deployments/production/rollback",
        {"reason": "api step"},
        content_type="application/json",
        **auth(deploy_key),
    )
    assert response.status_code == 201 and response.json()["restored_event"] == second.pk
    detail = client.get("/api/v1/models/churn/deployments/production", **auth(deploy_key)).json()
    assert detail["rollback_to"]["event"] == three[0].pk


def test_the_cli_steps_back_with_the_same_definition(three, alice, capsys):
    from django.core.management import CommandError, call_command

    first, second, _ = three
    call_command("rollback", "churn", "production", "--user", "alice", "--reason", "cli step")
    assert f"the state of #{second.pk}" in capsys.readouterr().out and _serving() == [2]
    call_command("rollback", "churn", "production", "--reason", "again")
    assert _serving() == [1]
    with pytest.raises(CommandError, match="no earlier state"):
        call_command("rollback", "churn", "production", "--reason", "once more")
