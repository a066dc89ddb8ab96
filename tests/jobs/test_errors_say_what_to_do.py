"""Validation errors that help: the signature check names renames and how to keep names stable;
a rejected version is validated again once its policy changed (never under the same one)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from core.errors import Conflict
from jobs.validation import signature
from jobs.validation.policy import policy_defaults, policy_update
from jobs.validation.runs import validation_execute, validation_start
from registry.models import ModelVersion
from tests.jobs.conftest import FAST_POLICY

NAMED = {
    "inputs": [{"name": "features", "dtype": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "churn_probability", "dtype": "float32", "shape": [-1, 1]}],
}
SEQUENTIAL = {
    "inputs": [{"name": "keras_tensor", "dtype": "float32", "shape": [-1, 4]}],
    "outputs": [{"name": "output_0", "dtype": "float32", "shape": [-1, 1]}],
}


def test_a_renamed_tensor_is_called_a_rename_and_the_fix_is_named():
    breaking, _ = signature.differences(NAMED, SEQUENTIAL)
    assert breaking == [
        "input 'features' is now named 'keras_tensor' (same dtype and shape): clients that use "
        "'features' would break",
        "output 'churn_probability' is now named 'output_0' (same dtype and shape): clients "
        "that use 'churn_probability' would break",
    ]
    ctx = SimpleNamespace(
        production=SimpleNamespace(number=1, signature=NAMED),
        signature=SEQUENTIAL,
        policy={**policy_defaults(), "signature_allow_breaking": False},
    )
    result = signature.run(ctx)
    assert not result.passed
    assert result.message.startswith("breaking change against production v1: input 'features'")
    assert 'keras.Input(shape=(4,), name="features")' in result.message
    assert "validation policy may allow breaking changes" in result.message


def test_an_ambiguous_change_stays_a_removal_and_an_addition():
    two = {
        "inputs": [
            {"name": "a", "dtype": "float32", "shape": [-1, 4]},
            {"name": "b", "dtype": "float32", "shape": [-1, 4]},
        ],
        "outputs": [],
    }
    breaking, _ = signature.differences(NAMED | {"outputs": []}, two)
    assert "input 'features' removed" in breaking
    assert "input 'a' added (clients do not send it)" in breaking


@pytest.fixture
def rejected(alice, holdout, keras_model_file):
    from registry.services import version_register

    version = version_register(
        model_name="scored",
        upload=keras_model_file,
        filename="small.keras",
        actor=alice,
        holdout_dataset=holdout,
        task="classification",
    )
    policy_update(
        model=version.model, changes={**FAST_POLICY, "parity_require_spec": True}, actor=alice
    )
    run = validation_start(version=version, actor=alice, enqueue=False)
    assert validation_execute(run_id=run.pk).status == "failed"
    version.refresh_from_db()
    assert version.state == "rejected"
    return version


@pytest.mark.django_db
def test_a_rejected_version_is_validated_again_after_its_policy_changed(rejected, alice):
    with pytest.raises(Conflict, match="rejected by validation run #.* under the current policy"):
        validation_start(version=rejected, actor=alice, enqueue=False)
    policy_update(model=rejected.model, changes={"parity_require_spec": False}, actor=alice)
    run = validation_start(version=rejected, actor=alice, enqueue=False)
    assert ModelVersion.objects.get(pk=rejected.pk).state == "validating"
    assert validation_execute(run_id=run.pk).status == "passed"
    assert ModelVersion.objects.get(pk=rejected.pk).state == "validated"


@pytest.mark.django_db
def test_the_console_explains_why_a_rejected_version_cannot_run_again(client, rejected, alice):
    client.force_login(alice)
    page = client.get("/models/scored/v1/").content.decode()
    assert 'disabled title="scored v1 was rejected by validation run #' in page
    response = client.post("/deployments/validate/scored/v1", follow=True)
    assert "change the model&#x27;s validation policy" in response.content.decode()
    policy_update(model=rejected.model, changes={"parity_require_spec": False}, actor=alice)
    page = client.get("/models/scored/v1/").content.decode()
    assert "Run validation suite</button>" in page and "was rejected by" not in page
