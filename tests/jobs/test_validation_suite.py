"""A whole suite run, in process: checks recorded in order, verdict and version state moved."""

from __future__ import annotations

import pytest

from jobs.models import ValidationRun
from jobs.validation.policy import policy_update
from jobs.validation.runs import validation_execute, validation_start
from jobs.validation.suite import CHECK_NAMES
from tests.jobs.conftest import FAST_POLICY

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(alice, holdout, keras_model_file):
    from registry.services import version_register

    version = version_register(
        model_name="scored",
        upload=keras_model_file,
        filename="small.keras",
        actor=alice,
        holdout_dataset=holdout,
        task="classification",
    )
    policy_update(model=version.model, changes=FAST_POLICY, actor=alice)
    return version


def test_it_passes_a_sound_version_and_marks_it_validated(scored, alice):
    run = validation_start(version=scored, actor=alice, enqueue=False)
    scored.refresh_from_db()
    assert run.status == "queued" and scored.state == "validating"

    finished = validation_execute(run_id=run.pk, worker_host="test-host")

    assert finished.status == "passed", finished.checks
    assert [c["check"] for c in finished.checks] == CHECK_NAMES
    assert all(c["passed"] for c in finished.checks)
    accuracy = next(c for c in finished.checks if c["check"] == "accuracy")
    assert accuracy["metrics"]["candidate"]["accuracy"] == 1.0
    assert finished.progress == 1.0 and finished.worker_host == "test-host"
    assert "verdict: passed" in finished.log
    scored.refresh_from_db()
    assert scored.state == "validated"


def test_a_failed_check_fails_the_run_and_rejects_the_version(scored, alice):
    changes = {"accuracy_min": 1.0, "parity_require_spec": True}
    policy_update(model=scored.model, changes=changes, actor=alice)
    run = validation_start(version=scored, actor=alice, enqueue=False)
    # The floor of 1.0 passes (v1 is perfect on its own labels); the missing spec cannot.
    finished = validation_execute(run_id=run.pk)
    assert finished.status == "failed"
    failed = [c["check"] for c in finished.checks if not c["passed"]]
    assert failed == ["environment_parity"]
    assert len(finished.checks) == len(CHECK_NAMES)  # a failure does not stop the other checks
    scored.refresh_from_db()
    assert scored.state == "rejected"


def test_it_is_idempotent_and_refuses_a_second_active_run(scored, alice):
    from core.errors import Conflict

    run = validation_start(version=scored, actor=alice, enqueue=False)
    with pytest.raises(Conflict, match="already has validation run"):
        validation_start(version=scored, actor=alice, enqueue=False)
    validation_execute(run_id=run.pk)
    assert validation_execute(run_id=run.pk) is None  # a redelivered message changes nothing
    assert ValidationRun.objects.get(pk=run.pk).attempts == 1


def test_an_unloadable_artifact_is_an_error_and_the_version_stays_validating(scored, alice):
    from registry.artifacts import artifact_file_path

    run = validation_start(version=scored, actor=alice, enqueue=False)
    artifact_file_path(scored.artifact).unlink()
    finished = validation_execute(run_id=run.pk)
    assert finished.status == "error" and "missing from the store" in finished.error
    scored.refresh_from_db()
    assert scored.state == "validating"
