"""Build the request's Actor (core.actor) from a session user or an API key, with no query.

Effective scopes are computed here once: a session holds its role's scopes; a key holds its own,
cut to what its owner's role may hold now (a key never exceeds its owner, even after a demotion),
with `admin` expanded to everything that role allows.
"""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from accounts.constants import ROLE_SCOPES, Role, Scope
from accounts.keys import KeyPrincipal
from core.actor import Actor, split_scope
from core.addresses import client_ip

# What a logged-in person may do by role. A viewer's session cannot predict, but a viewer may
# hold a predict key (ROLE_SCOPES), so scripts can call a model without a deployer's rights.
# Every session manages its own keys (an admin's: anyone's, checked by the key services).
SESSION_SCOPES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({Scope.READ, Scope.KEYS}),
    Role.DEPLOYER: frozenset({Scope.READ, Scope.DEPLOY, Scope.PREDICT, Scope.KEYS}),
    Role.ADMIN: frozenset({Scope.READ, Scope.DEPLOY, Scope.PREDICT, Scope.ADMIN, Scope.KEYS}),
}


def user_role(user) -> str:
    """A user's role; a superuser without a profile counts as admin, anyone else as viewer."""
    profile = getattr(user, "profile", None)
    if profile is not None:
        return profile.role
    return Role.ADMIN if getattr(user, "is_superuser", False) else Role.VIEWER


def key_scopes(principal: KeyPrincipal) -> frozenset[str]:
    """The scopes a key may use now: its own within its owner's role; `admin` means all of them."""
    ceiling = ROLE_SCOPES.get(principal.role, frozenset())
    if Scope.ADMIN in principal.scopes:
        return frozenset(ceiling)
    return frozenset(s for s in principal.scopes if split_scope(s)[0] in ceiling)


def actor_for(user, key: KeyPrincipal | None = None, *, ip: str | None = None) -> Actor:
    """The actor of a user (through key, if any); an inactive or anonymous user holds nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Actor.anonymous(ip=ip)
    if key is not None:
        if key.user_id != user.pk:
            return Actor.anonymous(ip=ip)
        return Actor(user=user, key=key, ip=ip, role=key.role, scopes=key_scopes(key))
    role = user_role(user)
    return Actor(user=user, ip=ip, role=role, scopes=SESSION_SCOPES.get(role, frozenset()))


def as_actor(actor, *, ip: str | None = None) -> Actor:
    """An Actor as given; a User as its session actor (scripts, the shell, tests); None as the
    system (scheduled jobs, workers)."""
    if isinstance(actor, Actor):
        return actor
    if actor is None:
        return Actor.for_system(ip=ip)
    return actor_for(actor, ip=ip)


def actor_from_request(request) -> Actor:
    """The actor of a Django or DRF request: the key's when one authenticated it, else the
    session's. Reads only what authentication already loaded."""
    auth = getattr(request, "auth", None)
    return actor_for(
        getattr(request, "user", None),
        auth if isinstance(auth, KeyPrincipal) else None,
        ip=client_ip(request.META),
    )


def attach_actor(request) -> None:
    """request.actor, built on first use: after DRF authentication, request.user and .auth are
    the key's, so an API view sees the key's actor and a console page the session's."""
    request.actor = SimpleLazyObject(lambda: actor_from_request(request))


class ActorMiddleware:
    """Attaches request.actor (lazily) to every Django request; place after authentication."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        attach_actor(request)
        return self.get_response(request)
