"""Train a small demo classifier, register it with a hold-out dataset, deploy it to production."""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib import metadata
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from jobs.validation.parity import DIGEST_RE, worker_environment
from jobs.validation.runs import validation_execute, validation_start
from registry.models import EnvironmentSpec, RegisteredModel
from registry.services import dataset_create, environment_create, version_register
from serving.deploy import deployment_deploy

DEMO_NAME = "demo-churn"


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic churn data: 8 numeric features, a label driven by three of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8)).astype("float32")
    logits = 1.5 * x[:, 0] - 2.0 * x[:, 3] + 0.8 * x[:, 5]
    y = (logits + rng.normal(scale=0.5, size=rows) > 0).astype("int64")
    return x, y


def train(x: np.ndarray, y: np.ndarray):
    import keras

    keras.utils.set_random_seed(7)
    inputs = keras.Input(shape=(8,), name="features")
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="churn_probability")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    return model, float(history.history["accuracy"][-1])


def packages_digest() -> str:
    """sha256 of this environment's installed distributions (name==version, sorted): outside
    an image, the nearest thing to a base image digest that pins what runs here."""
    names = sorted(
        f"{d.metadata['Name'].lower()}=={d.version}"
        for d in metadata.distributions()
        if d.metadata["Name"]
    )
    return "sha256:" + hashlib.sha256("\n".join(names).encode()).hexdigest()


def environment_here(actor) -> EnvironmentSpec:
    """The environment spec of the running process (python, TensorFlow, CUDA, GPUs, image), so
    the demo's parity check compares it field by field. Reused when it already exists."""
    facts = worker_environment()
    name = f"local-py{facts['python']}-tf{facts['tf_version']}"
    found = EnvironmentSpec.objects.filter(name=name).first()
    if found is not None:
        return found
    image = DIGEST_RE.search(settings.MODELGATE_IMAGE_DIGEST)
    return environment_create(
        name=name,
        python=facts["python"],
        tensorflow=facts["tf_version"],
        cuda=facts.get("cuda_version") or "",
        cudnn=facts.get("cudnn_version") or "",
        base_image=f"modelgate@{image.group(0)}" if image else f"local@{packages_digest()}",
        gpu_count=int(facts.get("gpu_count") or 0),
        cpu_limit=float(os.cpu_count() or 1),
        env_vars={},
        actor=actor,
    )


class Command(BaseCommand):
    help = "Train, register and deploy the demo model (does nothing if it already exists)."

    def handle(self, *args, **options):
        if RegisteredModel.objects.filter(name=DEMO_NAME, versions__isnull=False).exists():
            self.stdout.write(f"Demo model {DEMO_NAME!r} already registered.")
            return
        admin = get_user_model().objects.filter(username="admin").first()
        x, y = make_data(4000, seed=1)
        model, accuracy = train(x, y)
        hx, hy = make_data(1000, seed=2)
        with tempfile.TemporaryDirectory() as tmp:
            model_path = Path(tmp) / "demo-churn.keras"
            model.save(model_path)
            data_path = Path(tmp) / "demo-churn-holdout.npz"
            np.savez(data_path, x=hx, y=hy)
            holdout = dataset_create(
                name="demo-churn-holdout", upload=data_path, filename=data_path.name, actor=admin
            )
            version = version_register(
                model_name=DEMO_NAME,
                upload=model_path,
                filename=model_path.name,
                actor=admin,
                environment=environment_here(admin),
                holdout_dataset=holdout,
                reference_dataset=holdout,
                tags=["demo"],
                training_metrics={"accuracy": round(accuracy, 4)},
                description="Demo churn classifier trained on synthetic data.",
                task="classification",
            )
        # Through the real promotion gate: the suite runs here, in process, instead of on a worker.
        run = validation_start(version=version, actor=admin, enqueue=False)
        run = validation_execute(run_id=run.pk, worker_host="load_demo_model (in process)")
        self.stdout.write(f"Validation run #{run.pk}: {run.status}")
        passed = run.status == "passed"
        deployment_deploy(
            model_name=DEMO_NAME,
            deployment_name="production",
            version_number=version.number,
            actor=admin,
            reason="demo model loaded by make run"
            + ("" if passed else f" (validation run #{run.pk} {run.status}: demo override)"),
            override=not passed,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered {DEMO_NAME} v{version.number} and deployed it to production."
            )
        )
