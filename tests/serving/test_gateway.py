"""Predictions through the three wire formats, end to end through Django's test client."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serving import events
from serving.deploy import deployment_configure, deployment_deploy, deployment_rollback

from .conftest import auth

pytestmark = pytest.mark.django_db

ROWS = [[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]]


def post(client, path, body, key, **extra):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.generic("POST", path, data, content_type="application/json", **auth(key), **extra)


def test_native_predict_answers_predictions_version_and_ids(
    client, deployed, predict_key, keras_outputs
):
    response = post(
        client,
        "/api/v1/models/churn/deployments/production/predict",
        {"instances": ROWS},
        predict_key,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 1 and body["model"] == "churn"
    np.testing.assert_allclose(body["predictions"], keras_outputs(1, ROWS), rtol=1e-5, atol=1e-6)
    assert len(body["prediction_ids"]) == 2 and len(set(body["prediction_ids"])) == 2


def test_tfserving_status_metadata_and_predict(client, deployed, predict_key, keras_outputs):
    status = client.get("/v1/models/churn", **auth(predict_key))
    assert status.json() == {
        "name": "churn",
        "ready": True,
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ],
    }
    meta = client.get("/v1/models/churn/metadata", **auth(predict_key)).json()
    sig = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert "features" in sig["inputs"] and sig["method_name"] == "tensorflow/serving/predict"
    rows = post(client, "/v1/models/churn:predict", {"instances": ROWS}, predict_key).json()
    np.testing.assert_allclose(rows["predictions"], keras_outputs(1, ROWS), rtol=1e-5, atol=1e-6)
    cols = post(
        client,
        "/v1/models/churn/labels/production:predict",
        {"inputs": {"features": ROWS}},
        predict_key,
    ).json()
    np.testing.assert_allclose(cols["outputs"], keras_outputs(1, ROWS), rtol=1e-5, atol=1e-6)
    pinned = post(client, "/v1/models/churn/versions/1:predict", {"instances": ROWS}, predict_key)
    assert pinned.status_code == 200


def test_tfserving_unknown_model_or_version_is_404(client, deployed, predict_key):
    response = client.get("/v1/models/churn/versions/2", **auth(predict_key))
    assert response.status_code == 404
    assert "Servable not found" in response.json()["error"]
    response = post(
        client, "/v1/models/churn/labels/staging:predict", {"instances": ROWS}, predict_key
    )
    assert response.status_code == 404


def test_oip_metadata_ready_and_infer(client, deployed, predict_key, keras_outputs):
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
    assert client.get("/v2").json()["name"] == "modelgate"
    meta = client.get("/v2/models/churn", **auth(predict_key)).json()
    assert meta["name"] == "churn" and meta["versions"] == ["1"]
    assert meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]
    assert client.get("/v2/models/churn/ready", **auth(predict_key)).status_code == 200
    body = {
        "id": "42",
        "inputs": [
            {"name": "features", "shape": [2, 4], "datatype": "FP32", "data": sum(ROWS, [])}
        ],
    }
    response = client.generic(
        "POST", "/v2/models/churn/infer", json.dumps(body), **auth(predict_key)
    )  # tritonclient sends no Content-Type
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["id"] == "42" and out["model_name"] == "churn" and out["model_version"] == "1"
    assert out["outputs"][0]["shape"] == [2, 1]
    np.testing.assert_allclose(
        out["outputs"][0]["data"], keras_outputs(1, ROWS).ravel(), rtol=1e-5, atol=1e-6
    )


def test_it_needs_a_valid_key_with_predict_scope(client, deployed, make_key, alice):
    path = "/api/v1/models/churn/deployments/production/predict"
    missing = client.post(path, {"instances": ROWS}, content_type="application/json")
    assert missing.status_code == 401 and "API key" in missing.json()["error"]
    bad = post(client, path, {"instances": ROWS}, "mg_live_nope")
    assert bad.status_code == 401
    other = make_key(alice, ["predict:fraud"])
    forbidden = post(client, path, {"instances": ROWS}, other)
    assert forbidden.status_code == 403 and "churn" in forbidden.json()["error"]
    scoped = make_key(alice, ["predict:churn"])
    assert post(client, path, {"instances": ROWS}, scoped).status_code == 200


def test_bad_bodies_get_a_400_naming_the_problem(client, deployed, predict_key):
    path = "/api/v1/models/churn/deployments/production/predict"
    wrong_shape = post(client, path, {"instances": [[1.0, 2.0, 3.0]]}, predict_key)
    assert wrong_shape.status_code == 400
    assert "features" in wrong_shape.json()["error"]
    malformed = post(client, path, b"{not json", predict_key)
    assert malformed.status_code == 400 and "JSON" in malformed.json()["error"]
    wrong_type = post(client, path, {"instances": [["a", "b", "c", "d"]]}, predict_key)
    assert wrong_type.status_code == 400
    oip_bad = client.generic(
        "POST",
        "/v2/models/churn/infer",
        json.dumps(
            {
                "inputs": [
                    {"name": "features", "shape": [1, 4], "datatype": "INT64", "data": [1, 2, 3, 4]}
                ]
            }
        ),
        **auth(predict_key),
    )
    assert oip_bad.status_code == 400 and "error" in oip_bad.json()


def test_a_deploy_swaps_the_serving_version(
    client, deployed, predict_key, alice, pool, keras_outputs
):
    deployment_deploy(
        model_name="churn", deployment_name="production", version_number=2, actor=alice
    )
    pool.refresh()
    body = post(
        client,
        "/api/v1/models/churn/deployments/production/predict",
        {"instances": ROWS},
        predict_key,
    ).json()
    assert body["version"] == 2
    np.testing.assert_allclose(body["predictions"], keras_outputs(2, ROWS), rtol=1e-5, atol=1e-6)
    deployment_rollback(
        model_name="churn", deployment_name="production", actor=alice, reason="back"
    )
    pool.refresh()
    body = post(
        client,
        "/api/v1/models/churn/deployments/production/predict",
        {"instances": ROWS},
        predict_key,
    ).json()
    assert body["version"] == 1


def test_the_steady_state_request_path_makes_no_database_query(
    client, deployed, predict_key, django_assert_num_queries
):
    path = "/api/v1/models/churn/deployments/production/predict"
    assert post(client, path, {"instances": ROWS}, predict_key).status_code == 200  # warm caches
    with django_assert_num_queries(0):
        for _ in range(5):
            assert post(client, path, {"instances": ROWS}, predict_key).status_code == 200


def test_it_publishes_a_prediction_event(client, deployed, predict_key, monkeypatch):
    sink = events.MemorySink()
    monkeypatch.setattr(events, "_buffer", events.EventBuffer(sink))
    post(
        client,
        "/api/v1/models/churn/deployments/production/predict",
        {"instances": ROWS},
        predict_key,
    )
    events.get_buffer().flush()
    (event,) = sink.events
    assert (event.model, event.deployment, event.version, event.rows) == (
        "churn",
        "production",
        1,
        2,
    )
    assert event.status == 200 and event.latency_ms > 0
    assert list(event.inputs) == ["features"]
    np.testing.assert_allclose(event.inputs["features"], ROWS, rtol=1e-6)


def test_a_refused_request_is_logged_with_its_status(client, deployed, predict_key, monkeypatch):
    sink = events.MemorySink()
    monkeypatch.setattr(events, "_buffer", events.EventBuffer(sink))
    response = post(client, "/v1/models/churn:predict", {"instances": [[1.0]]}, predict_key)
    assert response.status_code == 400
    events.get_buffer().flush()
    (event,) = sink.events
    assert (event.status, event.rows, event.version) == (400, 0, 1)
    assert "features" in event.error and event.inputs is None


def test_the_prediction_cache_answers_repeated_inputs(client, deployed, predict_key, alice, pool):
    from serving.models import Deployment

    deployment_configure(
        deployment=Deployment.objects.get(name="production"),
        actor=alice,
        changes={"cache_ttl_seconds": 60},
    )
    pool.refresh()
    path = "/api/v1/models/churn/deployments/production/predict"
    first = post(client, path, {"instances": ROWS}, predict_key).json()
    loaded = pool.table.routes[("churn", "production")].primary()
    batches = loaded.batcher.stats()["batches"]
    second = post(client, path, {"instances": ROWS}, predict_key).json()
    assert second["predictions"] == first["predictions"]
    assert loaded.batcher.stats()["batches"] == batches  # the model did not run again


def test_an_over_limit_key_gets_429_with_rate_limit_headers(
    client, deployed, predict_key, settings
):
    settings.MODELGATE_DEFAULT_RATE_LIMIT = "2/m"
    path = "/api/v1/models/churn/deployments/production/predict"
    first = post(client, path, {"instances": ROWS}, predict_key)
    assert first.status_code == 200
    assert first["RateLimit-Limit"] == "2" and first["RateLimit-Remaining"] == "1"
    assert post(client, path, {"instances": ROWS}, predict_key).status_code == 200
    limited = post(client, path, {"instances": ROWS}, predict_key)
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1 and limited["RateLimit-Remaining"] == "0"
    tfs = post(client, "/v1/models/churn:predict", {"instances": ROWS}, predict_key)
    assert tfs.status_code == 429 and "error" in tfs.json()
