"""Every kind of model a Keras user saves serves through every REST protocol, end to end.

Each kind (tests/support/models.py) is registered, deployed and loaded by the serving pool, then
the same rows go through the native endpoint, TF Serving's row and columnar formats and OIP v2
(tritonclient's own JSON and binary bodies); every answer must equal the model called in-process.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import tritonclient.http as triton

from serving.protocols import oip
from tests.support import models

from .conftest import auth

pytestmark = pytest.mark.django_db
ROWS = 3


@pytest.fixture
def serve_kind(alice, pool, model_kind_path):
    """`serve_kind(kind, fmt)`: the kind registered, validated, deployed and loaded."""
    from registry.services import version_register
    from serving.deploy import deployment_configure, deployment_deploy
    from serving.models import Deployment
    from tests.support.validated import mark_validated

    def _serve(kind: str, fmt: str):
        path = model_kind_path(kind, fmt)
        upload, filename = models.upload_file(path, fmt)
        version = version_register(model_name=kind, upload=upload, filename=filename, actor=alice)
        mark_validated(version, actor=alice)
        deployment_deploy(
            model_name=kind, deployment_name="production", version_number=1, actor=alice
        )
        deployment = Deployment.objects.get(model__name=kind, name="production")
        deployment_configure(deployment=deployment, actor=alice, changes={"max_batch_size": 4})
        pool.refresh()
        assert (kind, "production") in pool.table.routes, pool.stats()
        return path

    return _serve


def _post(client, path, body, key, **extra):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.generic("POST", path, data, content_type="application/json", **auth(key), **extra)


def _json_rows(feeds: dict) -> list:
    names = list(feeds)
    if len(names) == 1:
        return feeds[names[0]].tolist()
    return [{name: feeds[name][i].tolist() for name in names} for i in range(ROWS)]


def _columns(answer, names: list[str]) -> dict[str, np.ndarray]:
    """Row answers (a list of values, or of objects) as arrays keyed by output name."""
    if len(names) == 1:
        return {names[0]: np.asarray(answer)}
    return {name: np.asarray([row[name] for row in answer]) for name in names}


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _assert_close(got: dict, expected: dict) -> None:
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        if value.dtype == object:  # strings: JSON answers text, binary answers bytes
            texts = [_text(v) for v in np.asarray(got[name], dtype=object).reshape(-1)]
            assert texts == [_text(v) for v in value.reshape(-1)]
            continue
        np.testing.assert_allclose(np.asarray(got[name], np.float64), value, rtol=1e-5, atol=1e-6)


def _oip_body(feeds: dict, binary: bool):
    inputs = []
    for name, array in feeds.items():
        datatype = "BYTES" if array.dtype == object else oip.array_datatype(array)
        item = triton.InferInput(name, list(array.shape), datatype)
        item.set_data_from_numpy(array, binary_data=binary)
        inputs.append(item)
    return triton.InferenceServerClient.generate_request_body(inputs)


@pytest.mark.parametrize("fmt", models.FORMATS)
@pytest.mark.parametrize("kind", sorted(models.KINDS))
def test_it_serves_every_kind_through_every_rest_protocol(
    client, serve_kind, predict_key, kind, fmt
):
    path = serve_kind(kind, fmt)
    feeds = models.sample_inputs(kind, ROWS, seed=7)
    expected = models.expected_outputs(path, fmt, feeds)
    names = list(expected)

    native = _post(
        client,
        f"/api/v1/models/{kind}/deployments/production/predict",
        {"instances": _json_rows(feeds)},
        predict_key,
    )
    assert native.status_code == 200, native.content
    _assert_close(_columns(native.json()["predictions"], names), expected)

    row_body = {"instances": _json_rows(feeds)}
    rows = _post(client, f"/v1/models/{kind}:predict", row_body, predict_key)
    assert rows.status_code == 200, rows.content
    _assert_close(_columns(rows.json()["predictions"], names), expected)

    columnar = {"inputs": {name: value.tolist() for name, value in feeds.items()}}
    cols = _post(client, f"/v1/models/{kind}:predict", columnar, predict_key)
    assert cols.status_code == 200, cols.content
    outputs = cols.json()["outputs"]
    _assert_close(outputs if len(names) > 1 else {names[0]: outputs}, expected)

    for binary in (False, True):
        body, length = _oip_body(feeds, binary)
        extra = {} if length is None else {"HTTP_INFERENCE_HEADER_CONTENT_LENGTH": str(length)}
        answer = _post(client, f"/v2/models/{kind}/infer", body, predict_key, **extra)
        assert answer.status_code == 200, answer.content
        header = answer.headers.get("Inference-Header-Content-Length")
        result = triton.InferenceServerClient.parse_response_body(
            answer.content, header_length=int(header) if header else None
        )
        _assert_close({name: result.as_numpy(name) for name in names}, expected)
