"""Who may do what: one rule for sessions and keys, used by DRF views, console pages and serving."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from rest_framework.permissions import BasePermission

from accounts.constants import ROLE_SCOPES, Role, Scope
from accounts.keys import KeyPrincipal
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


def _base_scope(scope: str) -> str:
    return scope.split(":", 1)[0]


def actor_can(user, principal: KeyPrincipal | None, scope: str, *, model_name: str | None = None):
    """Whether this user (through this key, if any) may act with `scope` (on model_name)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if principal is not None:
        if principal.user_id != user.pk:
            return False
        # A key never exceeds its owner's role, even if the role shrank after the key was made.
        if _base_scope(scope) not in ROLE_SCOPES.get(principal.role, frozenset()):
            return False
        return principal.allows(scope, model_name=model_name)
    return _base_scope(scope) in SESSION_SCOPES.get(user_role(user), frozenset())


def request_principal(request) -> KeyPrincipal | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, KeyPrincipal) else None


def request_ip(request) -> str | None:
    """The client's IP as core.addresses.client_ip reads it (trusted proxies only)."""
    return client_ip(request.META)


class _ScopePermission(BasePermission):
    scope: str = Scope.READ

    def has_permission(self, request, view) -> bool:
        self.message = f"This action needs the '{self.scope}' permission."
        return actor_can(request.user, request_principal(request), self.scope)


class CanRead(_ScopePermission):
    scope = Scope.READ


class CanDeploy(_ScopePermission):
    scope = Scope.DEPLOY


class CanPredict(_ScopePermission):
    scope = Scope.PREDICT


class CanAdmin(_ScopePermission):
    scope = Scope.ADMIN


class CanManageKeys(_ScopePermission):
    """Reads need `read` (or `keys`); every write to a key needs `keys`."""

    def has_permission(self, request, view) -> bool:
        principal = request_principal(request)
        if request.method in ("GET", "HEAD", "OPTIONS"):
            self.message = f"This action needs the '{Scope.READ}' permission."
            return actor_can(request.user, principal, Scope.READ) or actor_can(
                request.user, principal, Scope.KEYS
            )
        self.message = f"This action needs the '{Scope.KEYS}' permission."
        return actor_can(request.user, principal, Scope.KEYS)


def role_required(scope: str):
    """Console view decorator: log in first, then a 403 page unless the role allows scope."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not actor_can(request.user, None, scope):
                context = {"scope": scope, "role": user_role(request.user)}
                return render(request, "accounts/forbidden.html", context, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
