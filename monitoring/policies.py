"""Per-deployment policies (SLOs, drift): one way to read a policy and one audited way to change
its fields."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import InvalidInput
from serving.models import Deployment


def policy_get(model: type[models.Model], deployment: Deployment, *, defaults: dict | None = None):
    """The deployment's `model` policy, or an unsaved one as policy_update would create it
    (`defaults` over the model's own). Read through the deployment's one-to-one accessor, so a
    deployment loaded with select_related costs no query."""
    accessor = model._meta.get_field("deployment").remote_field.get_accessor_name()
    try:
        return getattr(deployment, accessor)
    except model.DoesNotExist:
        return model(deployment=deployment, **(defaults or {}))


def policy_update(
    model: type[models.Model],
    *,
    deployment: Deployment,
    fields: tuple[str, ...],
    label: str,
    action: str,
    changes: dict,
    actor: Actor,
    check: Callable[[models.Model], None] | None = None,
    defaults: dict | None = None,
):
    """Apply `changes` to the deployment's `model` policy (created on first change), validate,
    save and audit. Call inside a transaction: the row is locked while it changes. `defaults`
    seed a policy created here (values the model's own defaults cannot know)."""
    actor = as_actor(actor)
    actor.require("deploy", model=deployment.model.name, what=f"change the {label} policy")
    unknown = set(changes) - set(fields)
    if unknown:
        raise InvalidInput(f"unknown {label} setting(s): {', '.join(sorted(unknown))}")
    if not changes:
        raise InvalidInput("nothing to change")
    policy = model.objects.select_for_update().filter(deployment=deployment).first()
    policy = policy or model(deployment=deployment, **(defaults or {}))
    before = policy.as_dict() if policy.pk else None
    for field, value in changes.items():
        setattr(policy, field, value)
    try:
        policy.full_clean(exclude=["deployment"])
    except ValidationError as exc:
        details = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise InvalidInput(f"invalid {label} setting: {details}") from exc
    if check is not None:
        check(policy)
    policy.save()
    audit_record(
        actor=actor,
        action=action,
        target=f"deployment:{deployment}",
        before=before,
        after=policy.as_dict(),
    )
    return policy
