"""`make run`: the embedded default (SQLite, embedded broker) in one terminal.

    python -m console.devrun [--port 8000]

Refuses a taken port (granian binds with SO_REUSEPORT, so a second server would silently share
it), writes the development settings to var/dev.env (which manage.py, celery and granian read),
prepares the database and the demo model, starts the worker and the server, and prints where to
go once the server answers /readyz. The worker's routine INFO lines stay out of the terminal
unless LOG_LEVEL asks for them. To announce another endpoint, add a line in `banner`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from console import devenv

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 600  # the first start warms every deployed model (XLA compiles)


def port_taken(port: int, host: str = HOST) -> bool:
    """True when something listens on host:port (a plain bind fails even under SO_REUSEPORT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ignore TIME_WAIT leftovers
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def blocking_threads(cores: int | None = None) -> int:
    """Request threads: enough to queue work behind the batcher's leader, and within granian's
    own bound (2 x cores + 1), which it warns about past that."""
    return 2 * (cores or os.cpu_count() or 1) + 1


def banner(port: int, grpc_port: int | None = None) -> list[str]:
    """What a newcomer needs once the server is ready; one line per endpoint."""
    grpc_line = (
        [f"gRPC:              {HOST}:{grpc_port}  (OIP/Triton, TF Serving, grpc.health.v1)"]
        if grpc_port
        else []
    )
    return [
        f"Modelgate console: http://{HOST}:{port}/",
        *grpc_line,
        "Log in as:         admin (password: MODELGATE_ADMIN_PASSWORD, or the one printed above "
        "when the user was created)",
        f"REST API docs:     http://{HOST}:{port}/api/docs/",
        "Press Ctrl+C to stop. LOG_LEVEL=INFO make run shows the worker's and server's logs.",
    ]


def prepare() -> None:
    """Migrate, make sure the admin and the demo model exist, collect static files."""
    for step in (
        ["migrate", "--noinput", "-v", "0"],
        ["ensure_admin"],
        ["load_demo_model"],
        ["collectstatic", "--noinput", "-v", "0"],
    ):
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *step], cwd=ROOT)
        if done.returncode != 0:
            sys.exit(done.returncode)


def start(port: int, log_level: str) -> list[subprocess.Popen]:
    var = ROOT / "var"
    worker = subprocess.Popen(
        [
            str(BIN / "celery"), "-A", "console", "--quiet", "worker", "-B",
            "-Q", "default,gpu", "-c", "1", "--loglevel", log_level,
            "--schedule", str(var / "celerybeat-schedule"),
        ],
        cwd=ROOT,
    )  # fmt: skip
    server = subprocess.Popen(
        [
            str(BIN / "granian"), "--interface", "wsgi", "--host", HOST, "--port", str(port),
            "--blocking-threads", str(blocking_threads()), "--log-level", log_level.lower(),
            "console.wsgi:application",
        ],
        cwd=ROOT,
    )  # fmt: skip
    return [worker, server]


def wait_ready(port: int, processes: list[subprocess.Popen]) -> bool:
    """Poll /readyz until it answers 200; False if a process died or time ran out."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        # Not listening yet, or a 503 while the models warm up: ask again.
        url = f"http://{HOST}:{port}/readyz"
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=5) as response,
        ):
            if response.status == 200:
                return True
        time.sleep(0.5)
    return False


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 8000))
    port = parser.parse_args(argv).port
    if port_taken(port):
        print(
            f"Port {port} is already in use (another `make run`?). Stop that server, or pick "
            f"another port: PORT={port + 1} make run",
            file=sys.stderr,
        )
        return 1
    grpc_port = int(os.environ.get("GRPC_PORT") or 8500)
    if grpc_port and port_taken(grpc_port):
        print(
            f"gRPC port {grpc_port} is already in use (another `make run`?). Stop that server, "
            f"or pick another port: GRPC_PORT={grpc_port + 1} make run",
            file=sys.stderr,
        )
        return 1
    devenv.write()
    devenv.load()
    # The server serves gRPC on loopback too, like HTTP (settings read GRPC_PORT/GRPC_HOST).
    os.environ.update({"GRPC_PORT": str(grpc_port), "GRPC_HOST": HOST})
    log_level = (os.environ.get("LOG_LEVEL") or "WARNING").upper()
    os.environ["LOG_LEVEL"] = log_level  # Django's own loggers, in the server and the worker
    if log_level not in ("DEBUG", "INFO"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ start-up chatter
    prepare()
    processes = start(port, log_level)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where started with it ignored
    try:
        if wait_ready(port, processes):
            print("\n".join(["", *banner(port, grpc_port), ""]), flush=True)
        else:
            print(f"Modelgate did not become ready on port {port}; see the output above.")
            return 1
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1  # one of them stopped on its own
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
