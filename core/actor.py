"""Who is acting: one object per request (or per system job), passed to services.

Authentication builds it once (accounts.actors) and attaches it as `request.actor`; services take
it as `actor=` and authorize themselves with `actor.require(scope, model=...)`, so the console, the
API, the CLI and background jobs refuse the same way. core knows no roles or key tables: `scopes`
is already the effective set (the role's ceiling applied) and holds plain names (`deploy`) or
per-model names (`deploy:<model>`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import NotAuthenticated, PermissionDenied

SYSTEM_LABEL = "system"


def split_scope(scope: str) -> tuple[str, str | None]:
    """`deploy:fraud` -> ("deploy", "fraud"); `deploy` -> ("deploy", None)."""
    base, _, model = scope.partition(":")
    return base, model or None


@dataclass(frozen=True)
class Actor:
    """A person (by session or API key), or the system; immutable, cheap, no query to ask."""

    user: Any = None  # the User, None for the system or an anonymous caller
    key: Any = field(default=None, repr=False)  # the KeyPrincipal when a key authenticated
    ip: str | None = None
    role: str = ""
    scopes: frozenset[str] = frozenset()
    system: bool = False

    @classmethod
    def for_system(cls, *, ip: str | None = None) -> Actor:
        """Scheduled jobs, workers, management commands: may do anything, audited as system."""
        return cls(system=True, ip=ip)

    @classmethod
    def anonymous(cls, *, ip: str | None = None) -> Actor:
        return cls(ip=ip)

    @property
    def is_authenticated(self) -> bool:
        return self.system or self.user is not None

    @property
    def user_id(self) -> int | None:
        return getattr(self.user, "pk", None) if self.user is not None else None

    @property
    def label(self) -> str:
        """How the audit log and deployment history name the actor."""
        if self.key is not None:
            return self.key.label
        if self.user is not None:
            return self.user.get_username()
        return SYSTEM_LABEL

    def can(self, scope: str, model: str | None = None) -> bool:
        """Whether the actor holds `scope` (on `model`, when the action names one).

        A plain scope covers every model; `deploy:fraud` covers only fraud. Without a model, a
        per-model scope does not suffice: an action that names no model needs the plain scope."""
        if self.system:
            return True
        if self.user is None:
            return False
        base, named = split_scope(scope)
        model = model or named
        return base in self.scopes or (model is not None and f"{base}:{model}" in self.scopes)

    def require(self, scope: str, model: str | None = None, *, what: str = "") -> Actor:
        """Raise NotAuthenticated / PermissionDenied unless can(scope, model); returns self."""
        if self.can(scope, model):
            return self
        if not self.is_authenticated:
            raise NotAuthenticated("Log in or send an API key first.")
        base, named = split_scope(scope)
        model = model or named
        action = f" to {what}" if what else ""
        on = f" on model {model!r}" if model else ""
        hint = f" ('{base}' or '{base}:{model}')" if model else ""
        raise PermissionDenied(f"{self.label} needs the '{base}' permission{on}{action}{hint}.")
