"""Live fragments carry everything their new state changes: a finished validation run swaps the
header state, the validate button and the deploy gate with its verdict; a finished batch job's
fragment has no Cancel; the Deployments list says when each last changed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def churn_deployed(alice, keras_model_file):
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    version = version_register(
        model_name="churn", upload=keras_model_file, filename="small.keras", actor=alice
    )
    mark_validated(version, actor=alice)
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="first",
        create=True,
    )


@pytest.fixture
def validating(alice, keras_model_file):
    from jobs.validation.runs import validation_start
    from registry.services import version_register

    version = version_register(
        model_name="whole", upload=keras_model_file, filename="small.keras", actor=alice
    )
    return version, validation_start(version=version, actor=alice, enqueue=False)


def test_a_running_panel_swaps_only_itself(client, alice, validating):
    _, run = validating
    client.force_login(alice)
    html = client.get(f"/deployments/validations/{run.pk}/panel").content.decode()
    assert 'hx-trigger="every 2s"' in html and "hx-swap-oob" not in html


def test_a_finished_panel_swaps_the_header_the_validate_button_and_the_gate(
    client, alice, validating
):
    from jobs.models import ValidationRun, ValidationStatus
    from registry.constants import VersionState
    from registry.services import version_set_state

    version, run = validating
    client.force_login(alice)
    page = client.get("/models/whole/v1/").content.decode()
    assert 'id="version-state" class="badge validating"' in page
    assert "Deploying needs a passed validation run." in page

    ValidationRun.objects.filter(pk=run.pk).update(status=ValidationStatus.PASSED, progress=1.0)
    version_set_state(version=version, state=VersionState.VALIDATED, actor=alice)
    html = client.get(f"/deployments/validations/{run.pk}/panel").content.decode()
    assert "every 2s" not in html and "Passed" in html
    assert 'id="version-state" class="badge validated" hx-swap-oob="true">Validated<' in html
    assert '<div id="version-validate" hx-swap-oob="true">' in html
    assert f"Run #{run.pk} is" not in html  # the validate button is no longer blocked
    deploy = html[html.index('<div class="card" id="version-deploy" hx-swap-oob="true">') :]
    assert "Deploying needs a passed validation run." not in deploy
    assert 'action="/deployments/deploy/whole/v1"' in deploy


def test_a_batch_job_fragment_loses_cancel_once_finished(client, alice, validating, tmp_path):
    import numpy as np

    from jobs.models import BatchJob, BatchJobStatus
    from registry.services import dataset_create

    version, _ = validating
    path = tmp_path / "rows.npz"
    np.savez(path, features=np.zeros((4, 4), dtype="float32"))
    dataset = dataset_create(name="rows", upload=path, filename="rows.npz", actor=alice)
    job = BatchJob.objects.create(version=version, dataset=dataset, rows_total=4, created_by=alice)
    client.force_login(alice)
    url = f"/deployments/batch-jobs/{job.pk}"
    running = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert ">Cancel</button>" in running and "every 2s" in running
    BatchJob.objects.filter(pk=job.pk).update(status=BatchJobStatus.SUCCEEDED, rows_done=4)
    done = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Succeeded" in done and "Cancel" not in done and "every 2s" not in done


def test_the_deployments_list_says_when_each_last_changed(client, bob, churn_deployed):
    from serving.models import DeploymentEvent

    client.force_login(bob)
    html = client.get("/deployments/").content.decode()
    latest = DeploymentEvent.objects.latest()
    assert f"{latest.created_at:%Y-%m-%d %H:%M} UTC</time>" in html and "Last change" in html
