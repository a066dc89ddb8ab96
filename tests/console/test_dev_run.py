"""`make run`'s pieces: its settings file that every entry point reads, the taken-port refusal,
the thread count and what it prints once ready."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from console import devenv, devrun

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dev_env(tmp_path, monkeypatch):
    """A dev.env of our own, read as console.settings would read it (not the test settings)."""
    path = tmp_path / "var" / "dev.env"
    monkeypatch.setenv("MODELGATE_DEV_ENV", str(path))
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "console.settings")
    for name in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_COOKIES"):
        monkeypatch.setenv(name, "")  # recorded, so whatever load() sets is undone afterwards
        monkeypatch.delenv(name)
    return path


def test_it_writes_a_private_settings_file_and_keeps_its_secret_across_runs(dev_env):
    first = devenv.write()
    assert dev_env.stat().st_mode & 0o777 == 0o600
    assert first["DEBUG"] == "1" and len(first["SECRET_KEY"]) > 40
    assert devenv.read(dev_env) == first
    assert devenv.write()["SECRET_KEY"] == first["SECRET_KEY"]  # sessions survive a restart


def test_the_environment_wins_over_the_file(dev_env, monkeypatch):
    devenv.write()
    monkeypatch.setenv("DEBUG", "0")
    loaded = devenv.load()
    assert loaded["DEBUG"] == "1" and os.environ["DEBUG"] == "0"
    assert os.environ["SECRET_KEY"] == loaded["SECRET_KEY"]


def test_it_reads_nothing_when_disabled_or_under_other_settings(dev_env, monkeypatch):
    devenv.write()
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "console.settings_test")
    assert devenv.load() == {} and "SECRET_KEY" not in os.environ
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "console.settings")
    monkeypatch.setenv("MODELGATE_DEV_ENV", "")
    assert devenv.load() == {} and "SECRET_KEY" not in os.environ


def _second_terminal(dev_env: Path, *args: str) -> subprocess.CompletedProcess:
    """A command typed in a fresh shell: no DEBUG, SECRET_KEY or ALLOWED_HOSTS exported."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SECURE_COOKIES"}
    }
    env.update(MODELGATE_DEV_ENV=str(dev_env), DJANGO_SETTINGS_MODULE="console.settings")
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_manage_py_celery_and_the_wsgi_app_read_it_from_a_second_terminal(dev_env):
    code = "import console.{}; from django.conf import settings; print(settings.DEBUG)"
    refused = _second_terminal(dev_env, "-c", code.format("wsgi"))
    assert refused.returncode != 0 and "SECRET_KEY must be set" in refused.stderr
    devenv.write()
    assert _second_terminal(dev_env, "manage.py", "check").returncode == 0
    for entry_point in ("wsgi", "celery"):
        result = _second_terminal(dev_env, "-c", code.format(entry_point))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().endswith("True")


def test_it_refuses_a_port_that_is_taken_naming_it_and_the_variable(capsys):
    with socket.socket() as listener:
        # As granian binds: SO_REUSEPORT would let a second server share the port silently.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert devrun.port_taken(port)
        assert devrun.main(["--port", str(port)]) == 1
    message = capsys.readouterr().err
    assert f"Port {port} is already in use" in message and f"PORT={port + 1} make run" in message
    assert not devrun.port_taken(port)


def test_threads_follow_the_cores_within_granians_bound():
    assert devrun.blocking_threads(2) == 5
    assert devrun.blocking_threads(16) == 33


def test_the_banner_names_the_console_and_the_admin_user():
    lines = devrun.banner(8123)
    assert lines[0] == "Modelgate console: http://127.0.0.1:8123/"
    assert any(line.startswith("Log in as:         admin") for line in lines)


def test_the_image_never_reads_a_dev_settings_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'MODELGATE_DEV_ENV=""' in dockerfile
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "var" in ignored  # and the build context never carries one
