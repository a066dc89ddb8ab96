"""`manage.py load_environment_specs`: the services' runtimes become registry environment specs."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.models import EnvironmentSpec

pytestmark = pytest.mark.django_db


def test_it_records_every_service_environment_once(capsys):
    call_command("load_environment_specs")
    names = set(EnvironmentSpec.objects.values_list("name", flat=True))
    assert names == {f"modelgate-{s}" for s in ("web", "serving", "worker", "worker-gpu", "beat")}
    gpu = EnvironmentSpec.objects.get(name="modelgate-worker-gpu")
    assert gpu.gpu_count == 1 and gpu.cuda == "12.5" and gpu.base_image.startswith("python:3.11")
    call_command("load_environment_specs")  # idempotent: nothing new, nothing changed
    assert EnvironmentSpec.objects.count() == 5
    assert "modelgate-web: already recorded" in capsys.readouterr().out


def test_it_refuses_to_change_a_recorded_runtime(tmp_path, alice):
    call_command("load_environment_specs")
    changed = json.loads(_spec_file("web").read_text())
    changed["tensorflow"] = "2.22.0"
    path = tmp_path / "web.json"
    path.write_text(json.dumps(changed))
    with pytest.raises(CommandError, match="exists with different tensorflow"):
        call_command("load_environment_specs", str(path), "--user", "alice")
    assert EnvironmentSpec.objects.get(name="modelgate-web").tensorflow == "2.21.0"


def test_it_writes_nothing_when_one_file_is_bad(tmp_path):
    good = tmp_path / "a.json"
    good.write_text(_spec_file("serving").read_text())
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({**json.loads(good.read_text()), "name": "other", "base_image": "x"}))
    with pytest.raises(CommandError, match="b.json: base_image must be pinned by digest"):
        call_command("load_environment_specs", str(good), str(bad))
    assert not EnvironmentSpec.objects.exists()


def test_it_rejects_unknown_fields_and_users(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"name": "x", "pyhton": "3.11"}))
    with pytest.raises(CommandError, match=r"unknown field\(s\) \['pyhton'\]"):
        call_command("load_environment_specs", str(path))
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        call_command("load_environment_specs", "--user", "nobody")


def _spec_file(service: str):
    from django.conf import settings

    return settings.BASE_DIR / "deploy" / "environments" / f"{service}.json"
