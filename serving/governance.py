"""Who may bypass the promotion gate, and on what terms.

An override (serving a version without a passed validation run) is checked here, inside the
services, so every path refuses the same way: console, API, CLI, traffic split, A/B promotion.
"""

from __future__ import annotations

from core.actor import Actor
from core.errors import InvalidInput, PermissionDenied

MIN_OVERRIDE_REASON = 15


def override_authorize(*, actor: Actor, reason: str) -> str:
    """Refuse an override unless an admin asks for it with a written reason; return the reason."""
    # The system never overrides: an override is a person's audited call.
    if actor.system or not actor.can("admin"):
        raise PermissionDenied(
            "only an admin may override the promotion gate", code="override_not_allowed"
        )
    written = " ".join((reason or "").split())
    if len(written) < MIN_OVERRIDE_REASON:
        raise InvalidInput(
            f"an override needs a written reason of at least {MIN_OVERRIDE_REASON} characters "
            "(what is wrong with the gate's verdict and why serving anyway is safe)",
            code="override_reason_required",
        )
    return reason.strip()
