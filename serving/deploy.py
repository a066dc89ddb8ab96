"""Deploy, roll back and reconfigure deployments: each is one transaction that writes the new
variants, an append-only DeploymentEvent and an audit entry, then bumps the epoch so every serving
process swaps within its poll interval."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from registry.constants import VersionState
from registry.models import ModelVersion, RegisteredModel
from serving import history
from serving.constants import EventKind, VariantRole
from serving.epoch import epoch_bump_on_commit
from serving.governance import override_authorize
from serving.models import Deployment, DeploymentEvent, Variant

UNDEPLOYABLE_STATES = {"rejected", "archived"}
CONFIG_FIELDS = (
    "max_batch_size",
    "max_delay_ms",
    "max_queue_rows",
    "max_request_rows",
    "cache_ttl_seconds",
)


def _authorized(actor, model_name: str, what: str) -> Actor:
    """The caller as an Actor (a User or None from scripts and jobs is coerced), holding `deploy`
    on this model: a `deploy:<other model>` key is refused here, whatever route it came by."""
    return as_actor(actor).require("deploy", model=model_name, what=what)


def _variants_state(deployment: Deployment) -> list[dict]:
    return [v.state() for v in deployment.variants.select_related("version").order_by("id")]


def _apply_state(deployment: Deployment, state: list[dict]) -> None:
    """Replace the deployment's variants with `state` ([{version, weight, role}])."""
    numbers = [item["version"] for item in state]
    versions = {
        v.number: v for v in ModelVersion.objects.filter(model=deployment.model, number__in=numbers)
    }
    missing = sorted(set(numbers) - set(versions))
    if missing:
        raise Conflict(f"version(s) {missing} of {deployment.model.name} no longer exist")
    deployment.variants.all().delete()
    Variant.objects.bulk_create(
        Variant(
            deployment=deployment,
            version=versions[item["version"]],
            weight=item["weight"],
            role=item["role"],
        )
        for item in state
    )


def _lock_deployment(model_name: str, deployment_name: str, *, create: bool) -> Deployment:
    try:
        model = RegisteredModel.objects.get(name=model_name)
    except RegisteredModel.DoesNotExist:
        raise NotFound(f"model {model_name!r} does not exist") from None
    deployment = (
        Deployment.objects.select_for_update().filter(model=model, name=deployment_name).first()
    )
    if deployment is None:
        if not create:
            raise NotFound(
                f"deployment {model_name}/{deployment_name} does not exist; "
                "create it first (a new deployment is an explicit action)"
            )
        deployment = Deployment.objects.create(model=model, name=deployment_name)
    elif deployment.archived_at is not None:
        raise Conflict(
            f"deployment {model_name}/{deployment_name} is archived; create it again to reuse "
            "the name",
            code="archived",
        )
    return deployment


def _serve(deployment, *, before: list[dict], after: list[dict], **record) -> DeploymentEvent:
    """The tail of every change of what a deployment serves: refuse a no-op, write the variants,
    record the event. A deploy, a rollback and a traffic split differ only before this."""
    if history.same_state(before, after):
        raise Conflict(record.pop("unchanged"))
    record.pop("unchanged", None)
    _apply_state(deployment, after)
    return _record(deployment, before=before, after=after, **record)


def _record(deployment, *, kind, actor: Actor, reason, before, after, **extra):
    event = DeploymentEvent.objects.create(
        deployment=deployment,
        kind=kind,
        actor=actor.user,
        actor_label=actor.label,
        reason=reason,
        before=before,
        after=after,
        config=deployment.config(),
        **extra,
    )
    audit_record(
        actor=actor,
        action=f"deployment.{kind}",
        target=f"deployment:{deployment}",
        before={"variants": before},
        after={
            "variants": after,
            "event": event.pk,
            "reason": reason,
            "override": extra.get("override", False),
        },
    )
    epoch_bump_on_commit()
    return event


def check_promotable(version: ModelVersion, *, override: bool) -> None:
    """Refuse versions whose state is not validated, unless an admin overrides (audited).

    Reads only the version's state and its reason: the validation suite (jobs) moves the state
    when a run reaches a verdict, so the gate needs nothing from the layer above it."""
    if override:
        return
    label = f"{version.model.name} v{version.number}"
    if version.state == VersionState.VALIDATED:
        return
    if version.state == VersionState.REJECTED:
        raise Conflict(
            f"{label} is rejected and cannot be deployed without an admin override "
            f"({version.state_reason or 'its validation failed'})",
            code="not_validated",
        )
    if version.state in UNDEPLOYABLE_STATES:
        raise Conflict(f"{label} is {version.state} and cannot be deployed", code="not_validated")
    raise Conflict(
        f"{label} has no passed validation run; run the validation suite first "
        "(or an admin may override with a written reason)",
        code="not_validated",
    )


@transaction.atomic
def deployment_deploy(
    *,
    model_name: str,
    deployment_name: str,
    version_number: int,
    actor: Actor,
    reason: str = "",
    override: bool = False,
    create: bool = True,
) -> DeploymentEvent:
    """Send 100% of a deployment's traffic to one version. A missing deployment is created only
    with `create` (the console never does: a typo there must not start a live deployment).

    An override (no passed validation needed) takes an admin and a written reason."""
    actor = _authorized(actor, model_name, "deploy")
    if override:
        reason = override_authorize(actor=actor, reason=reason)
    deployment = _lock_deployment(model_name, deployment_name, create=create)
    version = ModelVersion.objects.filter(model=deployment.model, number=version_number).first()
    if version is None:
        raise NotFound(f"{model_name} has no version {version_number}")
    check_promotable(version, override=override)
    return _serve(
        deployment,
        before=_variants_state(deployment),
        after=[{"version": version.number, "weight": 100, "role": VariantRole.PRIMARY}],
        unchanged=f"{deployment} already serves v{version.number}",
        kind=EventKind.DEPLOYED,
        actor=actor,
        reason=reason,
        override=override,
    )


@transaction.atomic
def deployment_rollback(
    *,
    model_name: str,
    deployment_name: str,
    actor: Actor | None,
    reason: str,
    to_event_id: int | None = None,
    automatic: bool = False,
    metrics: dict | None = None,
) -> DeploymentEvent:
    """Step back to the state before the one serving now, or restore the state an event left
    (`to_event_id`). serving/history.py defines both, so repeated step-backs never go forward.
    actor None: the system (an automatic rollback)."""
    actor = _authorized(actor, model_name, "roll back")
    if not reason.strip():
        raise InvalidInput("a rollback needs a reason")
    deployment = _lock_deployment(model_name, deployment_name, create=False)
    before = _variants_state(deployment)
    if to_event_id is None:
        found = history.rollback_step_back(deployment)
    else:
        found = history.rollback_to_event(deployment, to_event_id)
    return _serve(
        deployment,
        before=before,
        after=found.state,
        unchanged=f"{deployment} already serves that state",
        kind=EventKind.AUTO_ROLLED_BACK if automatic else EventKind.ROLLED_BACK,
        actor=actor,
        reason=reason,
        restored_event=found.restored,
        metrics=metrics or {},
    )


@transaction.atomic
def deployment_create(*, model_name: str, deployment_name: str, actor: Actor) -> Deployment:
    """Create an empty deployment (serving nothing until a deploy), or revive an archived one."""
    actor = _authorized(actor, model_name, "create a deployment")
    model = RegisteredModel.objects.filter(name=model_name).first()
    if model is None:
        raise NotFound(f"model {model_name!r} does not exist")
    deployment = (
        Deployment.objects.select_for_update().filter(model=model, name=deployment_name).first()
    )
    if deployment is not None and deployment.archived_at is None:
        raise Conflict(f"deployment {deployment} already exists", code="exists")
    revived = deployment is not None
    if deployment is None:
        deployment = Deployment(model=model, name=deployment_name)
        try:
            deployment.full_clean(exclude=["model"], validate_constraints=False)
        except ValidationError:
            raise InvalidInput(
                f"{deployment_name!r} is not a valid deployment name: use lower-case letters, "
                "digits, '-' and '_' (e.g. staging, canary-eu)"
            ) from None
    deployment.archived_at = None
    deployment.save()
    audit_record(
        actor=actor,
        action="deployment.revived" if revived else "deployment.created",
        target=f"deployment:{deployment}",
        after={"name": deployment.name, "variants": []},
    )
    return deployment


@transaction.atomic
def deployment_archive(*, deployment: Deployment, actor: Actor, reason: str) -> DeploymentEvent:
    """Retire a deployment: detach its versions, hide it from lists and routing (history kept).
    Callers decide that it takes no traffic (monitoring.archiving checks the recent requests)."""
    actor = _authorized(actor, deployment.model.name, "archive a deployment")
    if not reason.strip():
        raise InvalidInput("archiving a deployment needs a reason")
    deployment = _lock_deployment(deployment.model.name, deployment.name, create=False)
    before = _variants_state(deployment)
    deployment.variants.all().delete()
    deployment.archived_at = timezone.now()
    deployment.save(update_fields=["archived_at", "updated_at"])
    return _record(
        deployment,
        kind=EventKind.ARCHIVED,
        actor=actor,
        reason=reason,
        before=before,
        after=[],
    )


@transaction.atomic
def deployment_configure(*, deployment: Deployment, actor: Actor, changes: dict) -> DeploymentEvent:
    """Change batching/cache settings; recorded as an event so replicas pick it up."""
    actor = _authorized(actor, deployment.model.name, "change a deployment")
    deployment = _lock_deployment(deployment.model.name, deployment.name, create=False)
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown setting(s): {', '.join(sorted(unknown))}")
    before_config = deployment.config()
    for field, value in changes.items():
        setattr(deployment, field, value)
    try:
        deployment.full_clean(exclude=["model"])
    except Exception as exc:  # ValidationError: report field messages, keep the old config
        raise InvalidInput(f"invalid setting: {exc}") from exc
    deployment.save()
    state = _variants_state(deployment)
    return _record(
        deployment,
        kind=EventKind.CONFIG_CHANGED,
        actor=actor,
        reason=f"config {before_config} -> {deployment.config()}",
        before=state,
        after=state,
    )


def deployment_state_at(deployment: Deployment, when: datetime) -> DeploymentEvent | None:
    """The event whose `after` state was serving at `when` (None: nothing was deployed yet)."""
    return deployment.events.filter(created_at__lte=when).order_by("-created_at", "-id").first()


def _traffic_state(variants: list[dict]) -> list[dict]:
    """Check and normalise a traffic split: one primary, serving weights adding up to 100, at
    most one shadow (weight 0: it receives a copy, never a share)."""
    if not variants:
        raise InvalidInput("a traffic split needs at least one variant")
    state, seen = [], set()
    for item in variants:
        try:
            number, weight, role = int(item["version"]), int(item["weight"]), str(item["role"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput(
                "each variant needs an integer version, an integer weight and a role"
            ) from None
        if role not in VariantRole.values:
            raise InvalidInput(f"unknown role {role!r}; choose one of {', '.join(VariantRole)}")
        if not 0 <= weight <= 100:
            raise InvalidInput(f"v{number}: weight must lie between 0 and 100, not {weight}")
        if role == VariantRole.SHADOW and weight != 0:
            raise InvalidInput(f"v{number}: a shadow variant takes no traffic share; give it 0")
        if number in seen:
            raise InvalidInput(f"v{number} appears twice in the split")
        seen.add(number)
        state.append({"version": number, "weight": weight, "role": role})
    roles = [s["role"] for s in state]
    if roles.count(VariantRole.PRIMARY) != 1:
        raise InvalidInput("a traffic split needs exactly one primary variant")
    if roles.count(VariantRole.SHADOW) > 1:
        raise InvalidInput("a traffic split may have at most one shadow variant")
    total = sum(s["weight"] for s in state if s["role"] != VariantRole.SHADOW)
    if total != 100:
        raise InvalidInput(f"the serving weights must add up to 100, not {total}")
    # Primary first, then by version: the order _variants_state reads back after the write.
    return sorted(state, key=lambda s: (s["role"] != VariantRole.PRIMARY, s["version"]))


@transaction.atomic
def deployment_set_traffic(
    *,
    model_name: str,
    deployment_name: str,
    variants: list[dict],
    actor: Actor,
    reason: str,
    override: bool = False,
) -> DeploymentEvent:
    """Split a deployment's traffic between versions by weight (A/B), with an optional shadow.

    Every version in the split passes the promotion gate, unless an admin overrides (audited)."""
    actor = _authorized(actor, model_name, "change traffic")
    if override:
        reason = override_authorize(actor=actor, reason=reason)
    if not reason.strip():
        raise InvalidInput("a traffic change needs a reason")
    deployment = _lock_deployment(model_name, deployment_name, create=False)
    after = _traffic_state(variants)
    numbers = [s["version"] for s in after]
    versions = {
        v.number: v
        for v in ModelVersion.objects.filter(
            model=deployment.model, number__in=numbers
        ).select_related("model")
    }
    missing = sorted(set(numbers) - set(versions))
    if missing:
        raise NotFound(f"{model_name} has no version(s) {', '.join(f'v{n}' for n in missing)}")
    for item in after:
        check_promotable(versions[item["version"]], override=override)
    return _serve(
        deployment,
        before=_variants_state(deployment),
        after=after,
        unchanged=f"{deployment} already serves that split",
        kind=EventKind.TRAFFIC_CHANGED,
        actor=actor,
        reason=reason,
        override=override,
    )
