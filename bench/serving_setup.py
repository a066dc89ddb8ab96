"""What bench/serving.py sets up before it measures: the environment of a throwaway Modelgate,
the two deterministic models ("small", "wide"), a key and their deployments, and the raw
in-process throughput the served figures are compared with."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

MODELS = {"small": (32, [256, 256], 1, "sigmoid"), "wide": (784, [1024, 1024], 10, "softmax")}


def redis_available(url: str) -> bool:
    host, port = "127.0.0.1", 6379
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def configure_env(var_dir: Path, use_redis: bool) -> dict:
    env = {
        "DEBUG": "1",
        "SECRET_KEY": "bench-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "MODELGATE_VAR_DIR": str(var_dir),
        "MODELGATE_CACHE_PREFIX": f"bench{os.getpid()}",
        "MODELGATE_DEFAULT_RATE_LIMIT": "10000000/m",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "MODELGATE_PAYLOAD_SAMPLE_RATE": "0.01",
        # gRPC off unless --grpc picks a port: never two benches (or a `make run`) on 8500.
        "GRPC_PORT": "0",
    }
    if use_redis:
        env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    else:
        env["REDIS_URL"] = ""
    env["DATABASE_URL"] = ""
    os.environ.update(env)
    return env


def build_model(kind: str, path: Path):
    import keras

    n_in, hidden, n_out, activation = MODELS[kind]
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(n_in,), name="input0")
    x = inputs
    for width in hidden:
        x = keras.layers.Dense(width, activation="relu")(x)
    outputs = keras.layers.Dense(n_out, activation=activation, name="output0")(x)
    model = keras.Model(inputs, outputs)
    model.save(path)
    return model


def prepare(models: list[str], work: Path) -> tuple[str, dict]:
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.services import api_key_create, user_create
    from registry.services import version_register
    from serving.deploy import deployment_configure, deployment_deploy
    from serving.models import Deployment

    call_command("migrate", verbosity=0)
    user = user_create(username="bench", password="bench-password-123", role="admin")  # noqa: S106
    keras_models = {}
    for kind in models:
        path = work / f"{kind}.keras"
        keras_models[kind] = build_model(kind, path)
        # The same artifact twice: `<kind>` batches (up to 64 rows), `<kind>-nobatch` runs
        # every request alone; both serve `production`, reached by the plain OIP path.
        for name, max_batch in ((kind, 64), (f"{kind}-nobatch", 1)):
            version_register(model_name=name, upload=path, filename=path.name, actor=user)
            deployment_deploy(
                model_name=name,
                deployment_name="production",
                version_number=1,
                actor=user,
                reason="bench: a model built on the spot, never validated",
                override=True,
            )
            dep = Deployment.objects.get(model__name=name, name="production")
            deployment_configure(deployment=dep, actor=user, changes={"max_batch_size": max_batch})
    _, key = api_key_create(user=user, name="bench", scopes=["predict"])
    return key, keras_models


# -- the raw in-process ceiling -----------------------------------------------------------------
def raw_throughput(kind: str, keras_model, path: Path, batch_sizes, seconds: float = 1.5) -> dict:
    import numpy as np

    from serving.runtime import ModelRuntime

    n_in = MODELS[kind][0]
    rng = np.random.default_rng(0)
    result = {}

    def rate(fn, batch) -> float:
        x = rng.normal(size=(batch, n_in)).astype("float32")
        for _ in range(20):
            fn(x)
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            fn(x)
            calls += 1
        return calls * batch / (time.perf_counter() - started)

    result["keras_b1"] = rate(lambda x: keras_model(x, training=False), 1)
    runtime = ModelRuntime.load(path, "keras", max_batch_size=max(batch_sizes))
    runtime.warm_up()
    for batch in batch_sizes:
        result[f"xla_b{batch}"] = rate(lambda x: runtime.predict({"input0": x}), batch)
    return result


def request_body(kind: str) -> bytes:
    import numpy as np
    import tritonclient.http as httpclient

    n_in = MODELS[kind][0]
    tensor = httpclient.InferInput("input0", [1, n_in], "FP32")
    tensor.set_data_from_numpy(
        np.random.default_rng(1).normal(size=(1, n_in)).astype("float32"), binary_data=False
    )
    output = httpclient.InferRequestedOutput("output0", binary_data=False)
    body, header_length = httpclient.InferenceServerClient.generate_request_body([tensor], [output])
    assert header_length is None
    return body if isinstance(body, bytes) else body.encode()
