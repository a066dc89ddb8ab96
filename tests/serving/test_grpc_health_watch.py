"""grpc.health.v1 Watch follows the pool: a stream opened while models load says NOT_SERVING, then
SERVING once they are ready, NOT_SERVING when the pool stops being ready, and NOT_SERVING for
good when the server drains; an unchanged state sends nothing."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def server(pool):
    from serving.grpc.server import build_server, close

    pool.ready = False  # still loading
    server, port = build_server(host="127.0.0.1", port=0, threads=4)
    server.start()
    yield server, port
    close(server, 0)


@pytest.mark.parametrize("service", ["", "inference.GRPCInferenceService"])
def test_watch_streams_every_readiness_change(server, pool, service):
    grpc_server, port = server
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        # The deadline bounds every wait below: a change that never comes fails the test.
        stream = health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=20
        )
        assert next(stream).status == NOT_SERVING
        pool.ready = True  # loaded
        assert next(stream).status == SERVING
        pool.ready = False  # what a drain or a reload that has to wait shows
        assert next(stream).status == NOT_SERVING
        pool.ready = True
        assert next(stream).status == SERVING
        grpc_server.health.enter_graceful_shutdown()
        assert next(stream).status == NOT_SERVING
        pool.ready = True  # nothing brings it back once shutting down
        checked = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert checked.status == NOT_SERVING
        stream.cancel()


def test_an_unchanged_state_sends_nothing(pool):
    from serving.grpc.health import PoolHealth

    sent = []
    pool.ready = True
    health = PoolHealth(["svc"], interval=3600)  # the thread sleeps: follow by hand
    health.set = lambda name, status: sent.append((name, status))
    health.follow_once()
    health.follow_once()
    assert sent == []  # already SERVING since construction
    pool.ready = False
    health.follow_once()
    health.follow_once()
    assert sent == [("", NOT_SERVING), ("svc", NOT_SERVING)]
    health.enter_graceful_shutdown()


def test_closing_a_server_ends_its_health_follower_and_handler_threads(pool):
    """A server built and closed leaves no thread behind (grpcio leaves its executor running)."""
    import threading
    import time

    from serving.grpc.server import build_server, close

    def ours():
        return {t for t in threading.enumerate() if t.name.startswith(("grpc-health", "grpc_"))}

    before = ours()
    server, port = build_server(host="127.0.0.1", port=0, threads=2)
    server.start()
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert ours() - before  # the follower and a handler thread run
    close(server, 0)
    deadline = time.monotonic() + 5
    while ours() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not ours() - before
