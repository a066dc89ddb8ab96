"""Protocol corners clients depend on: KServe V1 listing and status, OIP health bodies, Triton's
config / repository index / statistics extensions, compressed bodies both ways."""

from __future__ import annotations

import gzip
import json
import zlib

import numpy as np
import pytest

from serving.deploy import deployment_deploy

from .conftest import auth

pytestmark = pytest.mark.django_db
ROWS = [[0.1, 0.2, 0.3, 0.4], [1.0, -1.0, 0.5, 2.0]]
INFER = json.dumps(
    {"inputs": [{"name": "features", "shape": [2, 4], "datatype": "FP32", "data": ROWS}]}
).encode()


@pytest.fixture
def two_versions(deployed, alice, pool):
    """churn v1 in production and v2 in staging: both loaded in this replica."""
    deployment_deploy(model_name="churn", deployment_name="staging", version_number=2, actor=alice)
    pool.refresh()
    return deployed


def _post(client, path, body: bytes, key, **extra):
    return client.generic("POST", path, body, content_type="application/json", **auth(key), **extra)


def test_kserve_v1_lists_the_models_a_key_may_call(
    client, two_versions, predict_key, make_key, bob
):
    assert client.get("/v1/models", **auth(predict_key)).json() == {"models": ["churn"]}
    other = make_key(bob, ["predict:fraud"], name="fraud only")
    assert client.get("/v1/models", **auth(other)).json() == {"models": []}
    anonymous = client.get("/v1/models")
    assert anonymous.status_code == 401 and "API key" in anonymous.json()["error"]


def test_model_status_satisfies_tf_serving_and_kserve_v1_and_lists_every_version(
    client, two_versions, predict_key
):
    body = client.get("/v1/models/churn", **auth(predict_key)).json()
    assert body["name"] == "churn" and body["ready"] is True
    assert [s["version"] for s in body["model_version_status"]] == ["1", "2"]
    assert {s["state"] for s in body["model_version_status"]} == {"AVAILABLE"}
    pinned = client.get("/v1/models/churn/versions/2", **auth(predict_key)).json()
    assert [s["version"] for s in pinned["model_version_status"]] == ["2"]


def test_oip_health_and_model_ready_bodies(client, deployed, predict_key):
    live = client.get("/v2/health/live")
    assert (live.status_code, live.json()) == (200, {"live": True})
    assert client.get("/v2/health/ready").json() == {"ready": True}
    ready = client.get("/v2/models/churn/ready", **auth(predict_key))
    assert (ready.status_code, ready.json()) == (200, {"name": "churn", "ready": True})


def test_triton_model_config_describes_tensors_batching_and_xla(client, deployed, predict_key):
    config = client.get("/v2/models/churn/config", **auth(predict_key)).json()
    assert config["name"] == "churn" and config["max_batch_size"] == 64
    assert config["platform"] == "tensorflow_keras"
    assert config["input"] == [{"name": "features", "data_type": "TYPE_FP32", "dims": [4]}]
    assert config["output"] == [{"name": "score", "data_type": "TYPE_FP32", "dims": [1]}]
    assert config["parameters"]["xla"]["string_value"] in ("on", "off")


def test_triton_repository_index_lists_loaded_versions(client, two_versions, predict_key):
    index = _post(client, "/v2/repository/index", b"", predict_key)
    assert index.status_code == 200, index.content
    assert index.json() == [
        {"name": "churn", "version": "1", "state": "READY", "reason": ""},
        {"name": "churn", "version": "2", "state": "READY", "reason": ""},
    ]
    assert client.get("/v2/repository/index", **auth(predict_key)).status_code == 405


def test_triton_statistics_count_this_replicas_inferences(client, deployed, predict_key):
    def successes() -> int:
        stats = client.get("/v2/models/churn/stats", **auth(predict_key)).json()
        [entry] = stats["model_stats"]
        assert (entry["name"], entry["version"]) == ("churn", "1")
        return entry["inference_stats"]["success"]["count"]

    before = successes()
    assert _post(client, "/v2/models/churn/infer", INFER, predict_key).status_code == 200
    assert successes() == before + 1


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_it_reads_compressed_request_bodies(client, deployed, predict_key, coding):
    packed = gzip.compress(INFER) if coding == "gzip" else zlib.compress(INFER)
    plain = _post(client, "/v2/models/churn/infer", INFER, predict_key).json()
    answer = _post(
        client, "/v2/models/churn/infer", packed, predict_key, HTTP_CONTENT_ENCODING=coding
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["outputs"] == plain["outputs"]


def test_a_gzip_bomb_is_refused_with_413_before_it_inflates(
    client, deployed, predict_key, settings
):
    settings.MODELGATE_MAX_PREDICT_BODY_BYTES = 1024 * 1024
    bomb = gzip.compress(b"[" * (50 * 1024 * 1024), compresslevel=9)  # 50 MiB from ~50 KiB
    assert len(bomb) < 100 * 1024
    answer = _post(
        client, "/v2/models/churn/infer", bomb, predict_key, HTTP_CONTENT_ENCODING="gzip"
    )
    assert answer.status_code == 413
    assert "inflates past the limit of 1048576 bytes" in answer.json()["error"]


def test_it_refuses_unknown_or_corrupt_encodings(client, deployed, predict_key):
    unknown = _post(
        client, "/v2/models/churn/infer", INFER, predict_key, HTTP_CONTENT_ENCODING="br"
    )
    assert unknown.status_code == 415 and "'br'" in unknown.json()["error"]
    corrupt = _post(
        client,
        "/v2/models/churn/infer",
        b"\x1f\x8bnot gzip",
        predict_key,
        HTTP_CONTENT_ENCODING="gzip",
    )
    assert corrupt.status_code == 400 and "corrupt gzip" in corrupt.json()["error"]


def test_it_compresses_answers_when_asked(client, deployed, predict_key):
    plain = _post(client, "/v2/models/churn/infer", INFER, predict_key)
    packed = _post(
        client, "/v2/models/churn/infer", INFER, predict_key, HTTP_ACCEPT_ENCODING="gzip, br"
    )
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    answer = json.loads(gzip.decompress(packed.content))
    np.testing.assert_array_equal(
        np.asarray(answer["outputs"][0]["data"]), np.asarray(plain.json()["outputs"][0]["data"])
    )
    refused = _post(
        client, "/v2/models/churn/infer", INFER, predict_key, HTTP_ACCEPT_ENCODING="gzip;q=0"
    )
    assert "Content-Encoding" not in refused
