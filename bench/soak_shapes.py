"""The two shapes bench/soak.py runs (embedded: `make run`'s; production: PostgreSQL, Redis,
granian 2 x 16, a Celery worker and beat): their environment, stores, the deployed model and
keys, and their processes."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOAK = ROOT / "bench" / "soak.py"
VENV_BIN = Path(sys.executable).parent
PG_BASE = os.environ.get("SOAK_POSTGRES", "postgres://postgres@127.0.0.1:5432")
LIMITED_RATE = "600/m"  # the second key's limit: it sends faster, so part of its calls get 429


# -- shapes -------------------------------------------------------------------------------------
def shape_env(shape: str, work: Path, redis_db: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "GRANIAN"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "console.settings",
            "MODELGATE_VAR_DIR": str(work / "var"),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": "soak-only-secret",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONUNBUFFERED": "1",
            "MODELGATE_CACHE_PREFIX": f"soak{os.getpid()}",
            "GRPC_PORT": str(free_port()),  # not the default 8500, which another run may hold
        }
    )
    if shape == "embedded":
        # `make run`'s values: DEBUG on, SQLite under var/, no Redis, the embedded broker.
        env.update({"DEBUG": "1", "SECURE_COOKIES": "0", "DATABASE_URL": "", "REDIS_URL": ""})
        env.pop("CELERY_BROKER_URL", None)
    else:
        env.update(
            {
                "DEBUG": "0",
                "SECURE_COOKIES": "0",
                "DATABASE_URL": f"{PG_BASE}/soak_{os.getpid()}",
                "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
            }
        )
    return env


def reset_production_stores(env: dict) -> None:
    import psycopg
    import redis

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(env["REDIS_URL"]).flushdb()


def drop_production_database(env: dict) -> None:
    import psycopg

    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(f"{PG_BASE}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_in_subprocess(env: dict, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, str(SOAK), "_prepare", str(work)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"prepare failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare(work: Path) -> None:
    """(In a subprocess with the shape's environment.) Migrate, deploy `small`, issue two keys."""

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from serving_setup import build_model, request_body  # bench/, the running script's folder

    from accounts.services import api_key_create, user_create
    from registry.services import version_register
    from serving.deploy import deployment_deploy

    (work / "var").mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    user = user_create(username="soak", password="soak-password-123", role="admin")  # noqa: S106
    path = work / "small.keras"
    build_model("small", path)
    version_register(model_name="small", upload=path, filename=path.name, actor=user)
    deployment_deploy(
        model_name="small",
        deployment_name="production",
        version_number=1,
        actor=user,
        reason="soak benchmark: the model is built here, no validation run needed",
        override=True,
    )
    _, key = api_key_create(user=user, name="soak", scopes=["predict"])
    _, limited = api_key_create(
        user=user, name="soak-limited", scopes=["predict"], rate_limit=LIMITED_RATE
    )
    body = request_body("small")
    print(json.dumps({"key": key, "limited": limited, "body": body.decode()}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_processes(shape: str, env: dict, work: Path, port: int) -> dict[str, subprocess.Popen]:
    def spawn(name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    workers, threads = ("1", "32") if shape == "embedded" else ("2", "16")
    procs = {
        "serving": spawn(
            "serving",
            [
                str(VENV_BIN / "granian"),
                "--interface",
                "wsgi",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-ws",
                "--workers",
                workers,
                "--blocking-threads",
                threads,
                "--log-level",
                "warning",
                "console.wsgi:application",
            ],
        )
    }
    celery = str(VENV_BIN / "celery")
    beat_file = str(work / "celerybeat-schedule")
    if shape == "embedded":
        # `make run`: one worker with beat inside it, both queues, the embedded broker.
        procs["worker"] = spawn(
            "worker",
            [celery, "-A", "console", "worker", "-B", "-Q", "default,gpu", "-c", "1"]
            + ["--loglevel", "WARNING", "--schedule", beat_file],
        )
    else:
        procs["worker"] = spawn(
            "worker",
            [
                celery,
                "-A",
                "console",
                "worker",
                "-Q",
                "default",
                "-c",
                "2",
                "--loglevel",
                "WARNING",
            ],
        )
        procs["beat"] = spawn(
            "beat",
            [celery, "-A", "console", "beat", "--loglevel", "WARNING", "--schedule", beat_file],
        )
    return procs


def wait_ready(port: int, procs: dict, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for name, proc in procs.items():
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited early (code {proc.returncode})")
        with contextlib.suppress(OSError):
            url = f"http://127.0.0.1:{port}/v2/health/ready"
            with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - loopback
                if reply.status == 200:
                    return
        time.sleep(1.0)
    raise SystemExit("server not ready in time")


def stop_processes(procs: dict) -> None:
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
