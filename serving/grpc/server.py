"""The gRPC server: OIP, TF Serving and grpc.health.v1 on one port, inside each serving process.

It runs beside the WSGI front in the same process (each granian worker binds GRPC_PORT with
SO_REUSEPORT, so the kernel spreads connections over the workers) and shares that process's pool:
the models, batchers and route table are loaded once, and a gRPC row and a REST row batch
together. docs/architecture.md ("gRPC") records the measurement behind this choice.
"""

from __future__ import annotations

import logging
import threading
from concurrent import futures

import grpc
from django.conf import settings
from grpc_health.v1 import health_pb2_grpc
from tritonclient.grpc import service_pb2_grpc

from serving.grpc.health import PoolHealth
from serving.grpc.oip_service import InferenceService
from serving.grpc.tfs import model_service_pb2_grpc, prediction_service_pb2_grpc
from serving.grpc.tfserving_service import ModelService, PredictionService

logger = logging.getLogger(__name__)

SERVICES = (
    "inference.GRPCInferenceService",
    "tensorflow.serving.PredictionService",
    "tensorflow.serving.ModelService",
)


def build_server(*, host: str, port: int, threads: int | None = None) -> tuple[grpc.Server, int]:
    """A started-ready (not started) server and the port it bound (useful when `port` is 0)."""
    limit = settings.MODELGATE_MAX_PREDICT_BODY_BYTES  # the REST body limit, both ways
    executor = futures.ThreadPoolExecutor(
        max_workers=threads or settings.MODELGATE_GRPC_THREADS, thread_name_prefix="grpc"
    )
    server = grpc.server(
        executor,
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
            ("grpc.so_reuseport", 1),
        ],
    )
    service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server(InferenceService(), server)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionService(), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelService(), server)
    health_servicer = PoolHealth(SERVICES)  # follows the pool's readiness, Watch included
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    server.health = health_servicer  # so stop() can flip health before draining
    server.executor = executor  # grpcio never shuts down the executor it is given: close() does
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise OSError(f"gRPC could not bind {host}:{port}")
    return server, bound


_lock = threading.Lock()
_running: grpc.Server | None = None


def start(*, host: str | None = None, port: int | None = None) -> int | None:
    """Start this process's gRPC server once (GRPC_PORT; 0 turns it off); the bound port."""
    global _running
    port = settings.MODELGATE_GRPC_PORT if port is None else port
    if not port:
        return None
    with _lock:
        if _running is None:
            server, bound = build_server(host=host or settings.MODELGATE_GRPC_HOST, port=port)
            server.start()
            _running = server
            logger.info("gRPC serving on port %s", bound, extra={"event": "grpc_started"})
            return bound
    return port


def stop(grace: float | None = None) -> None:
    """Refuse new calls, let in-flight ones finish within `grace` seconds (process shutdown)."""
    global _running
    with _lock:
        server, _running = _running, None
    if server is None:
        return
    close(server, settings.MODELGATE_SHUTDOWN_DRAIN_SECONDS if grace is None else grace)
    logger.info("gRPC server drained", extra={"event": "shutdown"})


def close(server: grpc.Server, grace: float) -> None:
    """Health says NOT_SERVING (and its follower thread ends), in-flight calls get `grace`
    seconds, then the handler threads end too."""
    server.health.enter_graceful_shutdown()
    server.stop(grace).wait(grace + 1)
    server.executor.shutdown(wait=False)
