"""Where a rollback goes: one definition for the console button, the API and auto-rollback.

Every event leaves a state (`after`). A rollback or a restore re-applies the state some earlier
*origin* event produced: a deploy or a traffic change, never a rollback (whose state is borrowed)
nor a config change (which keeps the variants). Rollback events record that origin as
`restored_event`, so "restores #N" always means "the state event #N put in place".

Stepping back takes the state from before the origin of the current state, so repeated rollbacks
walk back through history and never forward:

    #1 deploy v1, #2 deploy v2, #3 deploy v3
    #4 rollback -> state of #2 (v2)     the current state came from #3; before it: #2
    #5 rollback -> state of #1 (v1)     #4 carries #2's state; before #2: #1
    #6 rollback -> refused              #5 carries #1's state; nothing came before #1

A state that a rollback undid stays undone: after #1 v1, #2 v2, #3 rollback (v1), #4 deploy v3,
stepping back gives v1 (state of #1), then nothing, never v2 again.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Conflict, NotFound
from serving.constants import EventKind
from serving.models import Deployment, DeploymentEvent

ROLLBACK_KINDS = frozenset({EventKind.ROLLED_BACK, EventKind.AUTO_ROLLED_BACK})


@dataclass(frozen=True)
class RollbackTarget:
    restored: DeploymentEvent  # the origin event whose `after` state is re-applied
    state: list[dict]
    undone: DeploymentEvent | None  # on a step back: the origin of the state being left


def same_state(a: list[dict], b: list[dict]) -> bool:
    return sorted(a, key=lambda s: s["version"]) == sorted(b, key=lambda s: s["version"])


class _History:
    """A deployment's events in order, with origin and predecessor lookups (no extra queries)."""

    def __init__(self, deployment: Deployment):
        self.events = list(deployment.events.order_by("created_at", "id"))
        self.by_id = {e.pk: e for e in self.events}
        self.position = {e.pk: i for i, e in enumerate(self.events)}

    def previous(self, event: DeploymentEvent) -> DeploymentEvent | None:
        """The latest variant-changing event before `event` (its `after` is `event.before`)."""
        for candidate in reversed(self.events[: self.position[event.pk]]):
            if candidate.kind != EventKind.CONFIG_CHANGED:
                return candidate
        return None

    def origin(self, event: DeploymentEvent) -> DeploymentEvent | None:
        seen: set[int] = set()
        while event is not None and event.pk not in seen:
            seen.add(event.pk)
            if event.kind == EventKind.CONFIG_CHANGED:
                event = self.previous(event)
            elif event.kind in ROLLBACK_KINDS:
                restored = self.by_id.get(event.restored_event_id)
                if restored is not None and not same_state(restored.after, event.after):
                    # Rows written before this definition named the undone event instead.
                    restored = self.previous(restored)
                if restored is None:
                    return event
                event = restored
            else:
                return event
        return event

    def latest(self) -> DeploymentEvent | None:
        for event in reversed(self.events):
            if event.kind != EventKind.CONFIG_CHANGED:
                return event
        return None


def rollback_step_back(deployment: Deployment) -> RollbackTarget:
    """The state before the event that produced the current one (rollbacks' own events skipped)."""
    history = _History(deployment)
    latest = history.latest()
    producer = history.origin(latest) if latest is not None else None
    before = history.previous(producer) if producer is not None else None
    if before is None or not before.after:
        raise Conflict(f"{deployment} has no earlier state to roll back to")
    return RollbackTarget(restored=history.origin(before), state=before.after, undone=producer)


def rollback_to_event(deployment: Deployment, event_id: int) -> RollbackTarget:
    """The state event #event_id left, attributed to the event that first produced it."""
    history = _History(deployment)
    event = history.by_id.get(event_id)
    if event is None:
        raise NotFound(f"{deployment} has no event {event_id}")
    if not event.after:
        raise Conflict(f"event #{event_id} left {deployment} empty; pick another one")
    return RollbackTarget(restored=history.origin(event) or event, state=event.after, undone=None)


def rollback_preview(deployment: Deployment) -> RollbackTarget | None:
    """Where the rollback button goes now (None: there is no earlier state)."""
    try:
        return rollback_step_back(deployment)
    except Conflict:
        return None
