"""`load_demo_model` (what `make run` shows first): trained, registered with an environment spec
of the running environment, validated through the real gate and deployed."""

from __future__ import annotations

import platform
from io import StringIO

import pytest
from django.core.management import call_command

from registry.models import ModelVersion
from serving.models import Deployment

pytestmark = pytest.mark.django_db


def test_it_ships_the_demo_with_an_environment_spec_its_parity_check_compares(charlie):
    call_command("load_demo_model", stdout=StringIO())
    version = ModelVersion.objects.get(model__name="demo-churn")
    spec = version.environment
    assert spec is not None and spec.python == platform.python_version()
    assert spec.base_image.split("@")[1].startswith("sha256:")
    run = version.validation_runs.get()
    parity = next(c for c in run.checks if c["check"] == "environment_parity")
    assert parity["passed"], parity
    fields = {f["field"]: f for f in parity["metrics"]["fields"]}
    assert fields["python"]["match"] and fields["tensorflow"]["match"]
    assert fields["gpu_count"]["match"]
    assert parity["metrics"]["spec"] == spec.name
    assert Deployment.objects.get(model__name="demo-churn", name="production")
    # A second call reuses the spec and the model: nothing is registered twice.
    call_command("load_demo_model", stdout=StringIO())
    assert ModelVersion.objects.filter(model__name="demo-churn").count() == 1
