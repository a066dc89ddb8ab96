"""SIGTERM stops a serving process gracefully: it refuses new connections at once (so readiness
probes fail), answers every prediction it had accepted (its batchers drain), flushes their
prediction events and exits 0 within the drain timeout. A Celery worker's warm shutdown is
tested beside its SIGKILL in tests/jobs/test_worker_kill.py."""

from __future__ import annotations

import re
import signal
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings

from serving.deploy import deployment_deploy
from serving.models import Deployment
from tests.support.servers import start_server

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.services,
    pytest.mark.timeout(60),
]

NATIVE = "/api/v1/models/churn/deployments/production/predict"
IN_FLIGHT = 8
# The batcher holds a batch this long for more rows (the API caps it at 100 ms; the test sets it
# directly), so every request is still queued in the batcher when the signal lands.
# Generous, so a busy machine still gets every request queued and the signal in within the hold.
HOLD_MS = 8000.0
DRAIN_SECONDS = 15
KILL_TIMEOUT_SECONDS = 17  # granian's --workers-kill-timeout, above the drain as in production


@pytest.fixture
def slow_production(churn, alice):
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="launch",
    )
    Deployment.objects.filter(model__name="churn", name="production").update(max_delay_ms=HOLD_MS)


@pytest.fixture
def server(slow_production, tmp_path):
    srv = start_server(
        tmp_path,
        granian_args=("--workers-kill-timeout", str(KILL_TIMEOUT_SECONDS)),
        MODELGATE_SHUTDOWN_DRAIN_SECONDS=DRAIN_SECONDS,
    )
    yield srv
    srv.stop()


def _predict(url: str, key: str) -> tuple[int, dict, str, float]:
    """(status, body, prediction id, monotonic time answered) of one prediction."""
    response = requests.post(
        url + NATIVE,
        json={"instances": [[0.1, 0.2, 0.3, 0.4]]},
        headers={"Authorization": f"Bearer {key}"},
        timeout=DRAIN_SECONDS + 5,
    )
    return (
        response.status_code,
        response.json(),
        response.headers.get("X-Prediction-Id", ""),
        time.monotonic(),
    )


def _recorded(prediction_ids: set[str], since: float) -> set[str]:
    """Which of these predictions reached monitoring: the Redis stream (entries added after
    `since`, a Unix time), or without Redis the prediction log the server writes directly."""
    if not settings.REDIS_URL:
        from monitoring.models import PredictionLog

        found = PredictionLog.objects.filter(request_id__in=prediction_ids)
        return set(found.values_list("request_id", flat=True))
    from django_redis import get_redis_connection

    from monitoring.ingest import decode_entry
    from serving.events import STREAM_KEY

    client, seen = get_redis_connection("default"), set()
    start = f"{int(since * 1000)}-0"
    while entries := client.xrange(STREAM_KEY, min=start, count=1000):
        seen |= {decode_entry(fields).request_id for _, fields in entries}
        start = "(" + entries[-1][0].decode()
    return seen & prediction_ids


def _queued_rows(url: str) -> float:
    try:
        text = requests.get(url + "/metrics", timeout=2).text
    except requests.Timeout:
        return -1.0  # a busy machine: ask again
    found = re.search(
        r'^modelgate_queue_rows\{[^}]*deployment="production"[^}]*\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else -1.0


def _wait_until(condition, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(message)


def _refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True


def test_sigterm_refuses_new_connections_and_drains_accepted_predictions(server, predict_key):
    started = time.time()
    with ThreadPoolExecutor(IN_FLIGHT) as clients:
        calls = [clients.submit(_predict, server.url, predict_key) for _ in range(IN_FLIGHT)]
        _wait_until(
            lambda: _queued_rows(server.url) == IN_FLIGHT,
            timeout=HOLD_MS / 1000 - 3,
            message=f"the requests never queued together:\n{server.output()}",
        )
        signalled = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)  # the main process, as Kubernetes stops a pod
        _wait_until(
            lambda: _refuses_connections(server.port),
            timeout=2.0,
            message="still accepting connections 2 s after SIGTERM",
        )
        held = sum(not call.done() for call in calls)
        answers = [call.result() for call in calls]
    exit_code = server.proc.wait(DRAIN_SECONDS)

    assert held == IN_FLIGHT  # refused new connections while all of them were still queued
    assert [status for status, *_ in answers] == [200] * IN_FLIGHT, answers
    assert all(len(body["predictions"]) == 1 for _, body, *_ in answers)
    assert min(at for *_, at in answers) > signalled
    assert exit_code == 0, server.output()
    assert _refuses_connections(server.port)
    # The drain ran in the worker and flushed the answered predictions' events on its way out.
    assert "serving pool drained" in server.output()
    ids = {prediction_id for _, _, prediction_id, _ in answers}
    assert len(ids) == IN_FLIGHT
    assert _recorded(ids, since=started) == ids
