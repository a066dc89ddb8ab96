"""Structured JSON logs: one object a line, each carrying its request's id."""

from __future__ import annotations

import io
import json
import logging

import pytest

from console.logging import JsonFormatter, logging_config
from serving.wsgi_front import REQUEST_ID, ServingFront


@pytest.fixture
def captured():
    """The access logger writing JSON lines into a buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("modelgate.access")
    logger.addHandler(handler)
    old_level, logger.level = logger.level, logging.INFO
    yield buffer
    logger.removeHandler(handler)
    logger.level = old_level


def _lines(buffer) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def _front(settings, status="201 Created"):
    settings.MODELGATE_POOL_AUTOSTART = False
    settings.MODELGATE_ACCESS_LOG = True

    def django_app(environ, start_response):
        logging.getLogger("modelgate.access").info("inside the view")
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]

    return ServingFront(django_app)


def _call(front, path, **environ):
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(headers)

    body = b"".join(front({"PATH_INFO": path, "REQUEST_METHOD": "GET", **environ}, start_response))
    return seen, body


def test_it_formats_a_record_as_one_json_object_with_extras_and_the_request_id():
    record = logging.LogRecord("x.y", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    record.deployment = "churn/production"
    token = REQUEST_ID.set("abc123")
    try:
        line = JsonFormatter().format(record)
    finally:
        REQUEST_ID.reset(token)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello you" and entry["level"] == "WARNING"
    assert entry["logger"] == "x.y" and entry["request_id"] == "abc123"
    assert entry["deployment"] == "churn/production" and entry["ts"].endswith("+00:00")


def test_it_keeps_a_traceback_inside_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exc_info"]


def test_it_gives_each_request_an_id_and_logs_it_on_every_line(settings, captured):
    front = _front(settings)
    seen, body = _call(front, "/models/")
    assert body == b"ok" and seen["status"] == "201 Created"
    request_id = seen["headers"]["X-Request-Id"]
    assert len(request_id) == 20
    inside, access = _lines(captured)
    assert inside["message"] == "inside the view" and inside["request_id"] == request_id
    assert access["request_id"] == request_id
    assert (access["method"], access["path"], access["status"]) == ("GET", "/models/", 201)
    assert access["duration_ms"] >= 0
    assert REQUEST_ID.get() == ""  # nothing leaks into the thread's next request


def test_it_keeps_a_proxys_request_id_only_when_it_is_plain(settings, captured):
    front = _front(settings)
    seen, _ = _call(front, "/", HTTP_X_REQUEST_ID="lb-0123456789")
    assert seen["headers"]["X-Request-Id"] == "lb-0123456789"
    seen, _ = _call(front, "/", HTTP_X_REQUEST_ID="evil\nline injected")
    assert seen["headers"]["X-Request-Id"] != "evil\nline injected"
    assert len(seen["headers"]["X-Request-Id"]) == 20


def test_it_switches_between_plain_and_json_by_setting():
    json_config = logging_config(fmt="json", level="INFO")
    assert json_config["formatters"]["main"] == {"()": "console.logging.JsonFormatter"}
    plain = logging_config(fmt="plain", level="DEBUG")
    assert "format" in plain["formatters"]["main"] and plain["root"]["level"] == "DEBUG"


def test_a_celery_tasks_lines_carry_its_task_id():
    from celery.signals import task_postrun, task_prerun

    from console.logging import connect_celery_signals, current_request_id

    connect_celery_signals()
    task_prerun.send(sender=None, task_id="task-42", task=None)
    assert current_request_id() == "task-42"
    task_postrun.send(sender=None, task_id="task-42", task=None)
    assert current_request_id() == ""
