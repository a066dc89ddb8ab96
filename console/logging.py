"""Structured logs: one JSON object a line, carrying the request id of the request (or Celery
task) that wrote it.

The WSGI front (serving/wsgi_front.py) sets the request id for every HTTP request: a prediction's
id is its prediction request id (the `X-Prediction-Id` header, the prediction log's `request_id`
and the event's `request_id`), so one id finds a prediction's log lines, its event and its row.
A Celery task's id is its task id. Switch on with MODELGATE_LOG_FORMAT=json.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime

import orjson

# The attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)
_HOST = socket.gethostname()
_request_id_var = None


def current_request_id() -> str:
    """The id of the request or task this thread is serving, or "" outside one."""
    global _request_id_var
    if _request_id_var is None:
        try:
            # Imported late: logging is configured inside django.setup(), before apps are ready.
            from serving.wsgi_front import REQUEST_ID
        except ImportError:
            return ""
        _request_id_var = REQUEST_ID
    return _request_id_var.get()


class JsonFormatter(logging.Formatter):
    """`{"ts", "level", "logger", "message", "request_id", "host", "pid", ...extra}` a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
            "host": _HOST,
            "pid": record.process or os.getpid(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


def _task_started(task_id=None, **_) -> None:
    current_request_id()  # resolves the variable
    if _request_id_var is not None and task_id:
        _request_id_var.set(task_id)


def _task_finished(**_) -> None:
    if _request_id_var is not None:
        _request_id_var.set("")


def connect_celery_signals() -> None:
    """Give a task's log lines its task id as their request id (called by the JSON config)."""
    from celery.signals import task_postrun, task_prerun

    task_prerun.connect(_task_started, weak=False, dispatch_uid="modelgate-log-task-start")
    task_postrun.connect(_task_finished, weak=False, dispatch_uid="modelgate-log-task-end")


def logging_config(*, fmt: str, level: str) -> dict:
    """The LOGGING dict: plain text for a terminal, JSON lines for a log collector."""
    json_lines = fmt == "json"
    if json_lines:
        connect_celery_signals()
    formatter = (
        {"()": "console.logging.JsonFormatter"}
        if json_lines
        else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "main"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            # granian's own access log has no request id; ours (modelgate.access) has.
            "_granian": {"level": "WARNING"},
        },
    }
