"""Environment specs: digest-pinned base images and checked fields."""

from __future__ import annotations

import pytest

from core.errors import Conflict, InvalidInput
from registry.models import EnvironmentSpec
from registry.services import environment_create

DIGEST = "sha256:" + "a" * 64
GOOD = {
    "name": "tf-cpu",
    "python": "3.11",
    "tensorflow": "2.21.0",
    "base_image": f"docker.io/library/python:3.11-slim@{DIGEST}",
}


@pytest.mark.django_db
def test_it_creates_an_environment(alice):
    spec = environment_create(
        **GOOD,
        actor=alice,
        env_vars={"TF_CPP_MIN_LOG_LEVEL": "2"},
        cpu_limit=2,
        memory_limit="4Gi",
        extra_packages=["numpy==2.1.3"],
    )
    assert spec.env_vars == {"TF_CPP_MIN_LOG_LEVEL": "2"}
    assert (spec.cpu_limit, spec.memory_limit, spec.gpu_count) == (2.0, "4Gi", 0)
    assert spec.extra_packages == ["numpy==2.1.3"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "image",
    [
        "python:3.11",
        "python@sha256:abc",
        f"python@{DIGEST.upper()}",
        f"python:latest@sha1:{'a' * 40}",
        "",
    ],
)
def test_it_requires_a_base_image_pinned_by_digest(alice, image):
    with pytest.raises(InvalidInput, match="base_image must be pinned by digest"):
        environment_create(**{**GOOD, "base_image": image}, actor=alice)
    assert EnvironmentSpec.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields, message",
    [
        ({"python": "three"}, "python must be a version"),
        ({"env_vars": {"1BAD": "x"}}, "env_vars must map variable names"),
        ({"memory_limit": "lots"}, "memory_limit must look like 512Mi"),
        ({"cpu_limit": 0}, "cpu_limit must be a positive number"),
        ({"gpu_count": 1}, "an environment with GPUs needs a cuda version"),
        ({"extra_packages": ["a b"]}, "invalid package requirement"),
        ({"name": "../x"}, "invalid environment name"),
    ],
)
def test_it_rejects_bad_fields(alice, fields, message):
    with pytest.raises(InvalidInput, match=message):
        environment_create(**{**GOOD, **fields}, actor=alice)
    assert EnvironmentSpec.objects.count() == 0


@pytest.mark.django_db
def test_it_refuses_a_duplicate_name(alice):
    environment_create(**GOOD, actor=alice)
    with pytest.raises(Conflict, match="environment 'tf-cpu' already exists"):
        environment_create(**GOOD, actor=alice)
    assert EnvironmentSpec.objects.count() == 1
