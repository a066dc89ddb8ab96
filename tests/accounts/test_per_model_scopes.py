"""Per-model scopes are enforced wherever a model is named: a key with `deploy:<other model>`
cannot deploy, roll back, split traffic, validate or start a batch job on this model over the API;
one with `deploy:<this model>` can. (Before the request actor, `deploy` ignored the model.)"""

from __future__ import annotations

import pytest

from core.errors import PermissionDenied
from serving.models import Deployment

pytestmark = pytest.mark.django_db

BASE = "/api/v1/models/churn/deployments/production"
SPLIT = [
    {"version": 1, "weight": 90, "role": "primary"},
    {"version": 2, "weight": 10, "role": "candidate"},
]
# (name, method, path, body): every write that names the model `churn`.
ACTIONS = [
    ("deploy", "post", f"{BASE}/deploy", {"version": 2}),
    ("rollback", "post", f"{BASE}/rollback", {"reason": "back to the last state"}),
    ("traffic", "post", f"{BASE}/traffic", {"variants": SPLIT, "reason": "a/b test"}),
    ("validate", "post", "/api/v1/models/churn/versions/2/validations", {}),
    ("batch job", "post", "/api/v1/batch-jobs", {"model": "churn", "version": 1, "dataset": 999}),
]


@pytest.fixture(autouse=True)
def _fresh_state(fresh_key_state):
    """Each test starts with no cached keys, no counted requests and an empty cache."""
    return fresh_key_state


@pytest.fixture
def live(alice, keras_model_file, keras_model_file_v2):
    """churn v1 then v2 served in production (so a rollback has somewhere to go), and a second
    model, fraud, that the other key may deploy."""
    from registry.services import version_register
    from serving.deploy import deployment_deploy
    from tests.support.validated import mark_validated

    for upload in (keras_model_file, keras_model_file_v2):
        version = version_register(
            model_name="churn", upload=upload, filename="small.keras", actor=alice
        )
        mark_validated(version, actor=alice)
    for number in (1, 2):
        deployment_deploy(
            model_name="churn",
            deployment_name="production",
            version_number=number,
            actor=alice,
            reason="setup",
        )
    version_register(model_name="fraud", upload=keras_model_file, filename="f.keras", actor=alice)
    return Deployment.objects.get(model__name="churn", name="production")


def _serving(deployment) -> list[tuple[int, int]]:
    return sorted((v.version.number, v.weight) for v in deployment.variants.all())


def _call(client, method, path, body, raw):
    return getattr(client, method)(
        path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}"
    )


def test_a_key_for_another_model_is_refused_every_write_on_this_one(client, live, alice, issue_key):
    _, raw = issue_key(alice, scopes=["read", "deploy:fraud"], name="fraud only")
    before = _serving(live)
    for name, method, path, body in ACTIONS:
        response = _call(client, method, path, body, raw)
        assert response.status_code == 403, (name, response.content)
        assert "churn" in response.json()["error"] or "deploy" in response.json()["error"]
    assert _serving(live) == before
    assert not live.model.versions.get(number=2).validation_runs.filter(status="queued").exists()


def test_a_key_for_this_model_may_do_each_write(client, live, alice, issue_key):
    _, raw = issue_key(alice, scopes=["read", "deploy:churn"], name="churn only")
    statuses = {}
    for name, method, path, body in ACTIONS:
        response = _call(client, method, path, body, raw)
        statuses[name] = response.status_code
        assert response.status_code not in (401, 403), (name, response.content)
    # deploy v2 is a no-op (409: it already serves v2); the rollback then goes back to v1, and
    # the split lands; the batch job names a dataset that does not exist (404, after the check).
    assert statuses["rollback"] == 201 and statuses["traffic"] == 201
    assert statuses["batch job"] == 404
    assert _serving(live) == [(1, 90), (2, 10)]


def test_a_plain_deploy_key_still_covers_every_model(client, live, alice, issue_key):
    _, raw = issue_key(alice, scopes=["read", "deploy"], name="all models")
    response = _call(client, "post", f"{BASE}/rollback", {"reason": "back"}, raw)
    assert response.status_code == 201, response.content


def test_per_model_key_cannot_act_where_no_model_is_named(client, live, alice, issue_key):
    _, raw = issue_key(alice, scopes=["read", "deploy:churn"], name="churn only")
    response = _call(client, "post", "/api/v1/environments", {"name": "cpu"}, raw)
    assert response.status_code == 403


def test_services_refuse_the_same_way_for_any_caller(live, alice):
    """The services authorize themselves: the check holds outside the API too."""
    from accounts.actors import actor_for
    from accounts.keys import KeyPrincipal
    from serving.deploy import deployment_rollback

    key = KeyPrincipal(
        key_id=1,
        prefix="abcdefabcdef",
        user_id=alice.pk,
        username="alice",
        role="deployer",
        scopes=frozenset({"read", "deploy:fraud"}),
        expires_at=None,
    )
    with pytest.raises(PermissionDenied, match="churn"):
        deployment_rollback(
            model_name="churn",
            deployment_name="production",
            actor=actor_for(alice, key),
            reason="not mine",
        )


def test_a_viewer_cannot_hold_a_per_model_deploy_scope(bob, issue_key):
    with pytest.raises(PermissionDenied):
        issue_key(bob, scopes=["deploy:churn"])
