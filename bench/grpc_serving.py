"""gRPC part of the serving benchmark: single-row OIP ModelInfer calls built by tritonclient.grpc,
against Modelgate (inside its serving processes, and beside them as a standalone process), KServe's
ModelServer with gRPC on, and MLServer, each peer in its own virtualenv under the bench's scratch
directory. Imported by bench/serving.py (`--grpc`); the peers' servers are the `peer_*` scripts
written below into that directory.

Every target gets the same request bytes (one tritonclient-built ModelInferRequest per model),
sent by the same lean client loop (the generated stub, no per-call tritonclient wrapping), so the
ratios compare servers, not client code paths.
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing as mp
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

PEER_PACKAGES = {"kserve": ["kserve==0.21.0"], "mlserver": ["mlserver==1.7.1"]}

KSERVE_SERVER = """
import sys, numpy as np, keras, tensorflow as tf, kserve
from kserve import InferOutput, InferResponse

class KerasModel(kserve.Model):
    def __init__(self, name, path):
        super().__init__(name)
        model = keras.saving.load_model(path, compile=False)
        self.fn = tf.function(lambda x: model(x, training=False))
        self.fn(np.zeros((1, model.inputs[0].shape[1]), np.float32))
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        x = payload.inputs[0].as_numpy()
        y = self.fn(x).numpy()
        out = InferOutput(name="output0", shape=list(y.shape), datatype="FP32")
        out.set_data_from_numpy(y, binary_data=False)
        return InferResponse(model_name=self.name, infer_outputs=[out], response_id=payload.id)

if __name__ == "__main__":
    grpc_port, http_port, *models = sys.argv[1:]
    served = [KerasModel(m.split("=")[0], m.split("=")[1]) for m in models]
    kserve.ModelServer(grpc_port=int(grpc_port), http_port=int(http_port), enable_grpc=True,
                       workers=1).start(served)
"""

MLSERVER_RUNTIME = """
import numpy as np, keras, tensorflow as tf
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceResponse

class KerasModel(MLModel):
    async def load(self):
        model = keras.saving.load_model(self.settings.parameters.uri, compile=False)
        self.fn = tf.function(lambda x: model(x, training=False))
        self.fn(np.zeros((1, model.inputs[0].shape[1]), np.float32))
        return True

    async def predict(self, payload):
        x = NumpyCodec.decode_input(payload.inputs[0])
        y = self.fn(x).numpy()
        return InferenceResponse(model_name=self.name, id=payload.id,
                                 outputs=[NumpyCodec.encode_output("output0", y)])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tf_site() -> str:
    """The site-packages that holds this interpreter's TensorFlow, which the peers import (read
    from the running Python, not ROOT/.venv, which a git worktree lacks)."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        raise LookupError(
            f"{sys.executable} has no TensorFlow for the gRPC peers to import; run the bench with "
            "Modelgate's venv (.venv/bin/python), or pass --peers '' to measure Modelgate only"
        )
    return str(Path(spec.origin).parents[1])


def peer_python(scratch: Path, name: str, tf_site: str) -> Path:
    """The peer's own virtualenv (made once, kept in the scratch directory). TensorFlow is the
    one Modelgate's venv holds, appended by a .pth after the peer's own packages, so the peer's
    pins win and both run the very same TF build."""
    venv = scratch / "peers" / name
    python = venv / "bin" / "python"
    marker = venv / ".installed"
    if not marker.exists():
        # The base interpreter (same Python as Modelgate's venv, so its TensorFlow imports).
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *PEER_PACKAGES[name]], check=True
        )
        marker.touch()
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "zz_modelgate_tf.pth").write_text(tf_site + "\n")
    return python


def wait_port(port: int, proc: subprocess.Popen | None, seconds: float = 180.0) -> None:
    """Until the server at `port` answers ServerReady true (or `proc` exits)."""
    import grpc
    from tritonclient.grpc import service_pb2, service_pb2_grpc

    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        with (
            grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
            contextlib.suppress(grpc.RpcError),
        ):
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            if stub.ServerReady(service_pb2.ServerReadyRequest(), timeout=1).ready:
                return
        time.sleep(0.5)
    raise SystemExit(f"gRPC server on {port} did not become ready")


def start_kserve(scratch: Path, tf_site: str, model_paths: dict) -> tuple[subprocess.Popen, int]:
    python = peer_python(scratch, "kserve", tf_site)
    script = scratch / "peer_kserve.py"
    script.write_text(textwrap.dedent(KSERVE_SERVER))
    port = free_port()
    args = [f"{name}={path}" for name, path in model_paths.items()]
    proc = subprocess.Popen(
        [str(python), str(script), str(port), str(free_port()), *args],
        cwd=scratch,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
        stdout=subprocess.DEVNULL,
        stderr=open(scratch / "kserve.log", "w"),  # noqa: SIM115
    )
    wait_port(port, proc)
    return proc, port


def start_mlserver(scratch: Path, tf_site: str, model_paths: dict) -> tuple[subprocess.Popen, int]:
    import json

    python = peer_python(scratch, "mlserver", tf_site)
    root = scratch / "mlserver"
    root.mkdir(exist_ok=True)
    (root / "peer_runtime.py").write_text(textwrap.dedent(MLSERVER_RUNTIME))
    port = free_port()
    (root / "settings.json").write_text(
        json.dumps(
            {
                "grpc_port": port,
                "http_port": free_port(),
                "metrics_port": free_port(),
                "parallel_workers": 0,
            }
        )
    )
    for name, path in model_paths.items():
        (root / name).mkdir(exist_ok=True)
        (root / name / "model-settings.json").write_text(
            json.dumps(
                {
                    "name": name,
                    "implementation": "peer_runtime.KerasModel",
                    "max_batch_size": 32,
                    "max_batch_time": 0.001,
                    "parameters": {"uri": str(path)},
                }
            )
        )
    proc = subprocess.Popen(
        [str(python.parent / "mlserver"), "start", str(root)],
        cwd=root,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=open(scratch / "mlserver.log", "w"),  # noqa: SIM115
    )
    wait_port(port, proc)
    return proc, port


def request_bytes(model: str, n_in: int) -> bytes:
    """One single-row ModelInferRequest as tritonclient.grpc builds it (raw input contents)."""
    import numpy as np
    import tritonclient.grpc as triton
    from tritonclient.grpc._utils import _get_inference_request

    tensor = triton.InferInput("input0", [1, n_in], "FP32")
    tensor.set_data_from_numpy(np.random.default_rng(1).normal(size=(1, n_in)).astype("float32"))
    request = _get_inference_request(
        model_name=model,
        inputs=[tensor],
        model_version="",
        request_id="",
        outputs=None,
        sequence_id=0,
        sequence_start=False,
        sequence_end=False,
        priority=0,
        timeout=None,
        parameters=None,
    )
    return request.SerializeToString()


def _client_proc(port, payload, key, threads, warmup_until, deadline, queue):
    import grpc
    from tritonclient.grpc import service_pb2

    request = service_pb2.ModelInferRequest.FromString(payload)
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    latencies, errors = [], [0]
    lock = threading.Lock()

    def worker():
        from tritonclient.grpc import service_pb2_grpc

        # Its own connection per caller, as separate clients have: grpc otherwise shares one
        # subchannel between a process's channels, and SO_REUSEPORT spreads connections only.
        channel = grpc.insecure_channel(
            f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
        )
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        mine, bad = [], 0
        while True:
            started = time.perf_counter()
            if started > deadline:
                break
            try:
                stub.ModelInfer(request, metadata=metadata, timeout=30)
                ok = True
            except grpc.RpcError:
                ok = False
            if started >= warmup_until:
                if ok:
                    mine.append((time.perf_counter() - started) * 1000.0)
                else:
                    bad += 1
        channel.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors[0]))


def drive(port: int, payload: bytes, key: str | None, concurrency: int, duration: float) -> dict:
    """req/s and latency percentiles of `concurrency` callers over `duration` seconds."""
    procs = min(concurrency, 2)
    per_proc = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    queue: mp.Queue = mp.Queue()
    now = time.perf_counter()
    warmup_until, deadline = now + 1.0, now + 1.0 + duration
    workers = [
        mp.Process(target=_client_proc, args=(port, payload, key, n, warmup_until, deadline, queue))
        for n in per_proc
    ]
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    latencies = sorted(x for lat, _ in results for x in lat)
    count = len(latencies)

    def pct(p: float) -> float:
        return latencies[min(count - 1, int(p * count))] if count else float("nan")

    return {
        "rps": count / duration,
        "errors": sum(e for _, e in results),
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
    }


def standalone_main(port: int) -> None:
    """`serving.py --grpc-standalone PORT`: the gRPC server alone in its own process, with its
    own pool (the "beside the serving processes" alternative the decision was measured against)."""
    import django

    django.setup()
    from serving.grpc import server as grpc_server
    from serving.pool import get_pool

    pool = get_pool()
    pool.ensure_started()
    grpc_server.start(host="127.0.0.1", port=port)
    while True:
        time.sleep(3600)


def rss_mb(pid: int) -> float:
    import psutil

    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / 2**20
