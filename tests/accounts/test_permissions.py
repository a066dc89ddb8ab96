"""Who may do what: sessions by role, keys by scope under their owner's role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from accounts.actors import actor_for
from accounts.keys import KeyPrincipal
from core.addresses import client_ip

pytestmark = pytest.mark.django_db


def _principal(user, role, scopes):
    return KeyPrincipal(
        key_id=1,
        prefix="abcdefghijkl",
        user_id=user.pk,
        username=user.username,
        role=role,
        scopes=frozenset(scopes),
        expires_at=None,
    )


@pytest.mark.parametrize(
    ("persona", "scope", "expected"),
    [
        ("bob", "read", True),
        ("bob", "predict", False),
        ("bob", "deploy", False),
        ("bob", "admin", False),
        ("alice", "read", True),
        ("alice", "predict", True),
        ("alice", "predict:fraud", True),
        ("alice", "deploy", True),
        ("alice", "admin", False),
        ("charlie", "admin", True),
        ("charlie", "deploy", True),
    ],
)
def test_sessions_are_judged_by_role(request, persona, scope, expected):
    user = request.getfixturevalue(persona)
    assert actor_for(user, None).can(scope) is expected


def test_nobody_anonymous_or_inactive_may_act(alice):
    assert actor_for(AnonymousUser(), None).can("read") is False
    assert actor_for(None, None).can("read") is False
    alice.is_active = False
    assert actor_for(alice, None).can("read") is False


def test_keys_are_judged_by_their_scopes(alice):
    key = _principal(alice, "deployer", {"read", "predict:fraud"})
    assert actor_for(alice, key).can("read")
    assert actor_for(alice, key).can("predict", "fraud")
    assert actor_for(alice, key).can("predict:fraud")
    assert not actor_for(alice, key).can("predict", "churn")
    assert not actor_for(alice, key).can("predict")
    assert not actor_for(alice, key).can("deploy")


def test_predict_covers_every_model_and_admin_covers_everything(alice, charlie):
    predict = _principal(alice, "deployer", {"predict"})
    assert predict.allows_predict("anything") and predict.has_scope("predict:x")
    assert not predict.has_scope("read")
    admin = _principal(charlie, "admin", {"admin"})
    for scope in ("read", "deploy", "predict", "predict:fraud", "admin"):
        assert actor_for(charlie, admin).can(scope), scope


def test_a_key_never_exceeds_its_owners_current_role(alice, bob):
    # An admin-scoped key whose owner is now a deployer keeps only deployer powers.
    demoted = _principal(alice, "deployer", {"admin"})
    assert actor_for(alice, demoted).can("deploy")
    assert not actor_for(alice, demoted).can("admin")
    viewer_key = _principal(bob, "viewer", {"admin"})
    assert actor_for(bob, viewer_key).can("predict") and not actor_for(bob, viewer_key).can(
        "deploy"
    )


def test_a_key_speaks_only_for_its_owner(alice, charlie):
    key = _principal(alice, "deployer", {"read"})
    assert not actor_for(charlie, key).can("read")


def test_it_reads_the_client_ip(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_ip(request.META) == "203.0.113.9", "X-Forwarded-For is not trusted by default"
    settings.MODELGATE_TRUSTED_PROXY_HOPS = 1
    assert client_ip(request.META) == "198.51.100.1"
    assert client_ip(factory.get("/", REMOTE_ADDR="not-an-ip").META) is None


def test_role_required_gives_a_403_page_to_a_role_without_the_scope(rf, bob, alice):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from accounts.permissions import role_required

    @role_required("deploy")
    def deploy_page(request):
        return HttpResponse("deploy form")

    request = rf.get("/deploy")
    request.user = bob
    denied = deploy_page(request)
    assert denied.status_code == 403
    assert b"needs the <code>deploy</code> permission" in denied.content
    request.user = alice
    assert deploy_page(request).content == b"deploy form"
    request.user = AnonymousUser()
    redirect = deploy_page(request)
    assert redirect.status_code == 302 and "next=/deploy" in redirect.url
