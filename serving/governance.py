"""Who may bypass the promotion gate, and on what terms.

An override (serving a version without a passed validation run) is checked here, inside the
services, so every path refuses the same way: console, API, CLI, traffic split, A/B promotion.
"""

from __future__ import annotations

from core.actor import Actor
from core.admin_reason import MIN_REASON, require_admin_reason

MIN_OVERRIDE_REASON = MIN_REASON


def override_authorize(*, actor: Actor, reason: str) -> str:
    """Refuse an override unless an admin asks for it with a written reason; return the reason."""
    require_admin_reason(
        actor,
        reason,
        act="override the promotion gate",
        refused_code="override_not_allowed",
        needs="an override needs",
        explain="what is wrong with the gate's verdict and why serving anyway is safe",
        missing_code="override_reason_required",
    )
    return reason.strip()
