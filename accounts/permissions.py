"""Who may do what: one rule for sessions and keys, used by DRF views, console pages and serving."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.actors import SESSION_SCOPES, actor_from_request, user_role
from accounts.constants import Scope
from core.actor import Actor

__all__ = ["SESSION_SCOPES", "request_actor", "user_role"]


def request_actor(request) -> Actor:
    """request.actor (attached by accounts.actors.ActorMiddleware); built here when a request
    did not pass through the middleware (a test's RequestFactory)."""
    actor = getattr(request, "actor", None)
    return actor if actor is not None else actor_from_request(request)


def view_model(view) -> str | None:
    """The model a view's URL names (`model`, or the kwarg the view declares as model_kwarg)."""
    kwargs = getattr(view, "kwargs", None) or {}
    return kwargs.get(getattr(view, "model_kwarg", "model"))


class _ScopePermission(BasePermission):
    """DRF permission by request.actor; on a URL that names a model, a per-model scope counts."""

    scope: str = Scope.READ

    def has_permission(self, request, view) -> bool:
        return self._allows(request, view, self.scope)

    def _allows(self, request, view, scope: str) -> bool:
        self.message = f"This action needs the '{scope}' permission."
        return request_actor(request).can(scope, view_model(view))


class CanRead(_ScopePermission):
    scope = Scope.READ


class CanDeploy(_ScopePermission):
    scope = Scope.DEPLOY


class CanPredict(_ScopePermission):
    scope = Scope.PREDICT


class CanAdmin(_ScopePermission):
    scope = Scope.ADMIN


class ReadOrDeploy(_ScopePermission):
    """The one rule of management endpoints: `read` for GET/HEAD/OPTIONS, `deploy` (on the URL's
    model, when it names one) for every write. Services check again with the model they touch."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return self._allows(request, view, Scope.READ)
        return self._allows(request, view, Scope.DEPLOY)


class ReadAndDeploy(ReadOrDeploy):
    """ReadOrDeploy, where a write also needs `read`: its answer reads the object back."""

    def has_permission(self, request, view) -> bool:
        return self._allows(request, view, Scope.READ) and super().has_permission(request, view)


class CanManageKeys(_ScopePermission):
    """Reads need `read` (or `keys`); every write to a key needs `keys`."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            actor = request_actor(request)
            self.message = f"This action needs the '{Scope.READ}' permission."
            return actor.can(Scope.READ) or actor.can(Scope.KEYS)
        return self._allows(request, view, Scope.KEYS)


def role_required(scope: str):
    """Console view decorator: log in first, then a 403 page unless the role allows scope."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = request_actor(request)
            if not actor.can(scope):
                context = {"scope": scope, "role": actor.role}
                return render(request, "accounts/forbidden.html", context, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
