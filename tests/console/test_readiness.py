"""/readyz on a serving process: ready only once every deployed version is loaded and warmed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def serving_process(settings, pool):
    """This process serves predictions (the pool is what /readyz asks about)."""
    settings.MODELGATE_POOL_AUTOSTART = True
    return pool


@pytest.fixture
def pool(monkeypatch):
    from serving import pool as pool_module

    fresh = pool_module.ServingPool(poll_interval=0.05)
    monkeypatch.setattr(pool_module, "current", fresh)
    yield fresh
    fresh.stop(timeout=5)


@pytest.fixture
def production(alice, keras_model_file):
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    version = version_register(
        model_name="churn", upload=keras_model_file, filename="small.keras", actor=alice
    )
    mark_validated(version, actor=alice)
    deployment_deploy(
        model_name="churn",
        deployment_name="production",
        version_number=1,
        actor=alice,
        reason="launch",
    )


def test_it_is_unready_until_the_deployed_versions_are_warm(client, serving_process, production):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["serving"] == {
        "ok": False,
        "detail": "loading deployed versions",
    }
    serving_process.refresh()
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"]["serving"]["detail"] == "1 deployment(s) loaded and warmed"


def test_it_names_a_version_that_cannot_load(client, serving_process, production):
    from registry.artifacts import artifact_local_path
    from registry.models import Artifact

    for artifact in Artifact.objects.all():
        artifact_local_path(artifact).write_bytes(b"not a keras file")
    serving_process.refresh()
    response = client.get("/readyz")
    assert response.status_code == 503
    detail = response.json()["checks"]["serving"]["detail"]
    assert detail.startswith("not loaded: churn/production (churn v1: ")


def test_it_goes_unready_while_draining_on_shutdown(client, serving_process, production):
    from serving.wsgi_front import drain_pool

    serving_process.refresh()
    assert client.get("/readyz").status_code == 200
    drain_pool(timeout=2)
    assert client.get("/readyz").status_code == 503
    route = serving_process.table.routes[("churn", "production")]
    assert route.primary().batcher.closed


def test_a_web_process_does_not_report_on_models(client, settings):
    settings.MODELGATE_POOL_AUTOSTART = False
    body = client.get("/readyz").json()
    assert set(body["checks"]) == {"database", "broker"}


def test_a_not_ready_answer_is_not_logged_as_a_server_error(client, caplog, monkeypatch):
    """The launcher and every probe ask /readyz during start-up: a 503 there is expected."""
    from console import health

    monkeypatch.setattr(health, "broker_ok", lambda: (False, "down for the test"))
    with caplog.at_level("WARNING", logger="django.request"):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "detail": "down for the test"}
    assert not [r for r in caplog.records if r.name == "django.request"]
