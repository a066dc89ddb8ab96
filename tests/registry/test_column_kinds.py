"""Reference columns declared numeric or categorical (console and API); drift uses the
declaration, and undeclared columns keep Evidently's inference."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InvalidInput
from core.models import AuditEntry
from monitoring import drift
from monitoring.drift_service import drift_run
from registry.column_kinds import dataset_columns, dataset_set_column_kinds

pytestmark = pytest.mark.django_db
LEVELS = 8  # a coded column: more levels than Evidently's 5, so inferred numeric


def _coded(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, 4))
    rows[:, 0] = rng.integers(0, LEVELS, size=n)
    return rows.astype("float32")


@pytest.fixture
def coded(alice, tmp_path, keras_model_file):
    """Model `fraud` v1 whose 2,000-row reference has an 8-level code in its first column."""
    from registry.services import dataset_create, version_register
    from serving.deploy import deployment_deploy
    from serving.models import Deployment
    from tests.support.validated import mark_validated

    path = tmp_path / "reference.npz"
    np.savez(path, features=_coded(2000, 1))
    dataset = dataset_create(name="reference", upload=path, filename="reference.npz", actor=alice)
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
    return dataset, Deployment.objects.get(model__name="fraud", name="production")


def test_it_applies_a_declaration_over_the_inferred_kind():
    rng = np.random.default_rng(0)
    codes = rng.integers(0, LEVELS, size=500).astype(float)
    assert drift.feature_drift("code", codes, codes).kind == "num"
    declared = drift.feature_drift("code", codes, codes, categorical=True)
    assert (declared.kind, declared.test) == ("cat", "chisquare")
    three = rng.integers(0, 3, size=500).astype(float)
    assert drift.feature_drift("x", three, three).kind == "cat"
    numeric = drift.feature_drift("x", three, three, numeric=True)
    assert (numeric.kind, numeric.test) == ("num", "ks")


@pytest.fixture(autouse=True)
def _controlled_clock(clock):
    """Drift windows never straddle a real minute boundary."""
    return clock


def test_drift_runs_use_the_reference_datasets_declarations(coded, alice, log_rows):
    dataset, deployment = coded
    first = dataset.feature_names[0]
    log_rows(deployment, _coded(2000, 2))
    before = {f["name"]: f for f in drift_run(deployment=deployment)[0].features}
    assert (before["features[0]"]["kind"], before["features[0]"]["test"]) == ("num", "wasserstein")
    dataset_set_column_kinds(dataset=dataset, kinds={first: "categorical"}, actor=alice)
    after = {f["name"]: f for f in drift_run(deployment=deployment)[0].features}
    assert (after["features[0]"]["kind"], after["features[0]"]["test"]) == ("cat", "jensenshannon")
    assert after["features[1]"]["kind"] == "num"


def test_declarations_are_checked_audited_and_reset_by_auto(coded, alice):
    dataset, _ = coded
    first = dataset.feature_names[0]
    with pytest.raises(InvalidInput, match="has no column"):
        dataset_set_column_kinds(dataset=dataset, kinds={"nope": "numeric"}, actor=alice)
    with pytest.raises(InvalidInput, match="is not numeric, categorical or auto"):
        dataset_set_column_kinds(dataset=dataset, kinds={first: "ordinal"}, actor=alice)
    dataset = dataset_set_column_kinds(dataset=dataset, kinds={first: "categorical"}, actor=alice)
    columns = {c["name"]: c for c in dataset_columns(dataset)}
    assert columns[first] == {
        "name": first,
        "dtype": columns[first]["dtype"],
        "inferred": "numeric",
        "declared": "categorical",
        "kind": "categorical",
    }
    assert AuditEntry.objects.filter(action="dataset.column_kinds").count() == 1
    dataset = dataset_set_column_kinds(dataset=dataset, kinds={first: "auto"}, actor=alice)
    assert dataset.column_kinds == {}


def test_the_api_and_the_console_declare_kinds(client, coded, alice, bob, make_key):
    dataset, _ = coded
    first = dataset.feature_names[0]
    url = f"/api/v1/datasets/{dataset.pk}/columns"
    listed = client.get(url, **make_key(bob, ["read"])).json()
    assert listed[0]["inferred"] == "numeric" and listed[0]["declared"] == ""
    refused = client.patch(
        url,
        {"column_kinds": {first: "categorical"}},
        content_type="application/json",
        **make_key(bob, ["read"]),
    )
    assert refused.status_code == 403
    key = make_key(alice, ["read", "deploy"])
    bad = client.patch(
        url, {"column_kinds": {"nope": "numeric"}}, content_type="application/json", **key
    )
    assert bad.status_code == 400 and "has no column" in bad.json()["error"]
    ok = client.patch(
        url, {"column_kinds": {first: "categorical"}}, content_type="application/json", **key
    )
    assert ok.status_code == 200 and ok.json()[0]["kind"] == "categorical"

    client.force_login(alice)
    page = f"/models/datasets/{dataset.pk}/columns/"
    html = client.get(page).content.decode()
    assert '<option value="categorical" selected>categorical (declared)</option>' in html
    response = client.post(page, {f"kind:{first}": "numeric"}, follow=True)
    assert "Column kinds of" in response.content.decode()
    dataset.refresh_from_db()
    assert dataset.column_kinds == {first: "numeric"}
    assert (
        f"/models/datasets/{dataset.pk}/columns/"
        in client.get("/models/datasets/").content.decode()
    )
