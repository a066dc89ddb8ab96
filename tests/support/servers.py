"""Start real Modelgate server processes (granian) on loopback against the test database."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides) -> dict:
    """The environment a server process needs to see the test's database, cache and files."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        env["MODELGATE_SQLITE_PATH"] = str(db["NAME"])
        env.pop("DATABASE_URL", None)
    else:
        env["DATABASE_URL"] = (
            f"postgres://{db['USER'] or ''}{':' + db['PASSWORD'] if db['PASSWORD'] else ''}"
            f"@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "DEBUG": "1",
            "SECRET_KEY": "live-test-secret",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "MODELGATE_VAR_DIR": str(settings.VAR_DIR),
            "MODELGATE_ARTIFACT_ROOT": str(settings.MODELGATE_ARTIFACT_ROOT),
            "MODELGATE_DATASET_ROOT": str(settings.MODELGATE_DATASET_ROOT),
            "MODELGATE_CACHE_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
            "MODELGATE_EPOCH_POLL_SECONDS": "0.1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            # gRPC off unless a test asks for a port: never two suites on the default 8500.
            "GRPC_PORT": "0",
        }
    )
    env.update({k: str(v) for k, v in overrides.items()})
    return env


class Server:
    """A granian process serving console.wsgi:application."""

    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.port, self.proc, self.log = port, proc, log
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


def start_server(
    tmp_path: Path,
    *,
    threads: int = 16,
    ready_path: str = "/v2/health/ready",
    timeout: float = 90.0,
    granian_args: tuple[str, ...] = (),
    **env,
) -> Server:
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        *granian_args,
        "console.wsgi:application",
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=server_env(**env), stdout=out, stderr=subprocess.STDOUT
        )
    server = Server(port, proc, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.output()}")
        try:
            if requests.get(server.url + ready_path, timeout=1).status_code == 200:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"server not ready after {timeout}s:\n{server.output()}")
