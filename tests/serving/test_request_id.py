"""One id per prediction request, from the WSGI entry to its event, its log rows and its answer."""

from __future__ import annotations

import io
import json
import logging

import pytest

from console.logging import JsonFormatter
from monitoring.ingest import ingest_events
from monitoring.models import PredictionLog
from serving import events
from serving.wsgi_front import ServingFront

from .conftest import auth

pytestmark = pytest.mark.django_db

PATH = "/api/v1/models/churn/deployments/production/predict"


@pytest.fixture
def access_lines():
    """The access logger's JSON lines."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("modelgate.access")
    logger.addHandler(handler)
    old_level, logger.level = logger.level, logging.INFO
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.level = old_level


@pytest.fixture
def sink(monkeypatch):
    sink = events.MemorySink()
    monkeypatch.setattr(events, "_buffer", events.EventBuffer(sink))
    return sink


def _predict(front, key: str, body: bytes, **environ):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    answer = b"".join(
        front(
            {
                "REQUEST_METHOD": "POST",
                "PATH_INFO": PATH,
                "CONTENT_LENGTH": str(len(body)),
                "wsgi.input": io.BytesIO(body),
                "REMOTE_ADDR": "127.0.0.1",
                **auth(key),
                **environ,
            },
            start_response,
        )
    )
    return seen["status"], seen["headers"], answer


def test_a_served_and_a_failed_predict_each_carry_one_id_everywhere(
    settings, deployed, predict_key, access_lines, sink
):
    settings.MODELGATE_POOL_AUTOSTART = False
    settings.MODELGATE_ACCESS_LOG = True
    front = ServingFront(lambda environ, start_response: [b""])

    ok_status, ok_headers, ok_body = _predict(
        front, predict_key, b'{"instances": [[0.1, 0.2, 0.3, 0.4]]}'
    )
    # A proxy's id is kept beside ours, never as the prediction's (its log row's unique key).
    bad_status, bad_headers, bad_body = _predict(
        front, predict_key, b'{"instances": [[1, 2]]}', HTTP_X_REQUEST_ID="lb-0123456789"
    )
    events.get_buffer().flush()

    assert ok_status == "200 OK" and bad_status == "400 Bad Request"
    ok_id, bad_id = ok_headers["X-Request-Id"], bad_headers["X-Request-Id"]
    assert ok_id != bad_id and bad_id != "lb-0123456789"
    assert ok_headers["X-Prediction-Id"] == ok_id
    assert json.loads(ok_body)["prediction_ids"] == [f"{ok_id}-0"]
    assert "expected shape" in json.loads(bad_body)["error"]

    by_status = {event.status: event for event in sink.events}
    assert by_status[200].request_id == ok_id and by_status[400].request_id == bad_id
    assert by_status[400].error and by_status[400].prediction_ids == []

    lines = {line["status"]: line for line in access_lines()}
    assert lines[200]["request_id"] == ok_id and lines[400]["request_id"] == bad_id
    assert lines[400]["upstream_request_id"] == "lb-0123456789"

    ingest_events(list(sink.events))
    rows = dict(PredictionLog.objects.values_list("request_id", "status"))
    assert rows == {ok_id: 200, bad_id: 400}


def test_a_refused_predict_answers_its_refusal_events_id(settings, deployed, sink):
    settings.MODELGATE_POOL_AUTOSTART = False
    front = ServingFront(lambda environ, start_response: [b""])
    status, headers, _ = _predict(front, "mg_nottherealkey_0123456789", b"{}")
    events.get_buffer().flush()
    assert status == "401 Unauthorized"
    (refusal,) = sink.events
    assert refusal.status == 401 and refusal.request_id == headers["X-Request-Id"]


def test_the_django_view_answers_the_request_id_its_event_holds(
    client, settings, deployed, predict_key, sink
):
    settings.MODELGATE_POOL_AUTOSTART = False
    ok = client.post(
        PATH, b'{"instances": [[0.1, 0.2, 0.3, 0.4]]}', "application/json", **auth(predict_key)
    )
    bad = client.post(PATH, b'{"instances": [[1, 2]]}', "application/json", **auth(predict_key))
    events.get_buffer().flush()
    assert ok.status_code == 200 and bad.status_code == 400
    assert ok["X-Request-Id"] == ok["X-Prediction-Id"] != bad["X-Request-Id"]
    by_status = {event.status: event for event in sink.events}
    assert by_status[200].request_id == ok["X-Request-Id"]
    assert by_status[400].request_id == bad["X-Request-Id"]
