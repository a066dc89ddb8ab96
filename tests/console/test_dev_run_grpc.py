"""`make run` serves gRPC on GRPC_PORT: it refuses a taken one and announces it with the console."""

from __future__ import annotations

import socket

from console import devrun
from tests.support.servers import free_port


def test_the_banner_announces_the_grpc_port():
    lines = devrun.banner(8123, 8500)
    assert lines[0] == "Modelgate console: http://127.0.0.1:8123/"
    assert lines[1].startswith("gRPC:              127.0.0.1:8500")
    assert not any(line.startswith("gRPC") for line in devrun.banner(8123))


def test_it_refuses_a_taken_grpc_port_naming_the_variable(capsys, monkeypatch):
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as gRPC binds
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        grpc_port = listener.getsockname()[1]
        monkeypatch.setenv("GRPC_PORT", str(grpc_port))
        assert devrun.main(["--port", str(free_port())]) == 1
    message = capsys.readouterr().err
    assert f"gRPC port {grpc_port} is already in use" in message
    assert f"GRPC_PORT={grpc_port + 1} make run" in message
