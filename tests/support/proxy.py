"""Run deploy/nginx/modelgate.conf (the file compose and Kubernetes use) with Debian's nginx on
loopback, as a non-root user, under a temporary prefix.

Only three lines change: the listen port and the two upstream addresses. Everything the tests are
about (buffering, timeouts, size limits, routing) is the file as shipped.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.servers import ROOT, free_port

CONF = ROOT / "deploy" / "nginx" / "modelgate.conf"
HOW_TO_GET_ONE = (
    "nginx is not installed: `apt-get install nginx-light` (Debian/Ubuntu) to run the reverse "
    "proxy tests; MODELGATE_REQUIRE_NGINX=1 (CI) turns this skip into a failure"
)
LISTEN = "listen 8080;"
WEB = "server modelgate-web:8000;"
SERVING = "server modelgate-serving:8001;"


def find_nginx() -> str:
    """The nginx binary, or a skip with how to get one (a failure under MODELGATE_REQUIRE_NGINX)."""
    path = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if path is None:
        if os.environ.get("MODELGATE_REQUIRE_NGINX") == "1":
            pytest.fail(f"MODELGATE_REQUIRE_NGINX=1 but {HOW_TO_GET_ONE}")
        pytest.skip(HOW_TO_GET_ONE)
    return path


def site_config(port: int, web: str, serving: str) -> str:
    """The shipped file with its listen port and upstreams pointed at loopback."""
    text = CONF.read_text()
    for line in (LISTEN, WEB, SERVING):
        assert text.count(line) == 1, f"{CONF} should hold {line!r} exactly once"
    return (
        text.replace(LISTEN, f"listen 127.0.0.1:{port};")
        .replace(WEB, f"server {web};")
        .replace(SERVING, f"server {serving};")
    )


class Proxy:
    """An nginx master + one worker, stopped (and its prefix removed) by stop()."""

    def __init__(self, nginx: str, *, web: str, serving: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Not under pytest's tmp_path: its parents are private to root, and nginx must not be.
        self.prefix = Path(tempfile.mkdtemp(prefix="mg-nginx-"))
        self.prefix.chmod(0o755)
        (self.prefix / "modelgate.conf").write_text(site_config(self.port, web, serving))
        temp_paths = ""
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.prefix / kind).mkdir()
            temp_paths += f"  {kind}_temp_path {self.prefix / kind};\n"
        (self.prefix / "nginx.conf").write_text(
            "daemon off;\nworker_processes 1;\n"
            f"pid {self.prefix}/nginx.pid;\nerror_log {self.prefix}/error.log info;\n"
            "events { worker_connections 1024; }\n"
            f"http {{\n  access_log off;\n{temp_paths}"
            f"  include {self.prefix}/modelgate.conf;\n}}\n"
        )
        # Root in a container? Run it as nobody: the config must work without privileges.
        user = None
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            user = nobody.pw_uid
            for path in self.prefix.iterdir():
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            os.chown(self.prefix, nobody.pw_uid, nobody.pw_gid)
        self.proc = subprocess.Popen(
            [nginx, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf"), "-e",
             str(self.prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            user=user,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited early:\n{self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not listen:\n{self.errors()}")

    def errors(self) -> str:
        log = self.prefix / "error.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        shutil.rmtree(self.prefix, ignore_errors=True)
