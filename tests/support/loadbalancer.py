"""A small loopback HTTP load balancer for the scale-out test: round robin over upstreams.

Like nginx with `proxy_next_upstream error` for non-idempotent requests: a request that could
not connect (the process is gone) goes to the next upstream and that upstream is skipped for a
while; a request that reached an upstream and then lost it fails with 502 (it may have run).
Each response says which upstream served it (X-Upstream)."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class LoadBalancer:
    """Serves on 127.0.0.1:<port> in a thread; `stop()` shuts it down."""

    def __init__(self, upstreams: list[int], *, down_seconds: float = 2.0):
        self.upstreams = list(upstreams)
        self.down_seconds = down_seconds
        self._down_until: dict[int, float] = {}
        self._turn = itertools.count()
        self._lock = threading.Lock()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # the servers log; the balancer stays quiet
                pass

            def do_GET(self):
                balancer.forward(self)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _candidates(self) -> list[int]:
        with self._lock:
            now = time.monotonic()
            start = next(self._turn) % len(self.upstreams)
            order = self.upstreams[start:] + self.upstreams[:start]
            up = [p for p in order if self._down_until.get(p, 0) <= now]
            return up or order

    def _mark_down(self, port: int) -> None:
        with self._lock:
            self._down_until[port] = time.monotonic() + self.down_seconds

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in HOP_BY_HOP}
        for port in self._candidates():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                conn.connect()
            except OSError:
                self._mark_down(port)
                continue  # never reached the upstream: safe to try the next one
            try:
                conn.request(handler.command, handler.path, body, headers)
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException):
                self._mark_down(port)
                self._reply(handler, 502, b'{"error": "upstream failed mid-request"}', [], port)
                return
            finally:
                conn.close()
            extra = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            self._reply(handler, response.status, payload, extra, port)
            return
        self._reply(handler, 502, b'{"error": "no upstream reachable"}', [], 0)

    @staticmethod
    def _reply(handler, status: int, payload: bytes, headers, port: int) -> None:
        handler.send_response(status)
        for name, value in headers:
            if name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("X-Upstream", str(port))
        handler.end_headers()
        handler.wfile.write(payload)
