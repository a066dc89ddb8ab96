"""Validation runs: start one (queued on the gpu queue), execute it (on the worker), read them.

A run moves queued -> running -> passed | failed | error. A pass or a fail also moves the
version validating -> validated | rejected; an error (the infrastructure failed, not the model)
leaves the version `validating` so it can be run again.
"""

from __future__ import annotations

import logging
import socket

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import Conflict
from core.lookups import found_by_id
from jobs.lifecycle import Lifecycle
from jobs.models import ACTIVE_VALIDATION_STATES, ValidationRun, ValidationStatus
from jobs.validation.policy import policy_effective
from jobs.validation.suite import CHECK_NAMES, build_context, run_checks
from registry.constants import VersionState
from registry.models import ModelVersion
from registry.services import version_set_state

logger = logging.getLogger(__name__)
NOT_VALIDATABLE = {VersionState.ARCHIVED}


def revalidation_refused(version: ModelVersion) -> str:
    """A rejected version is validated again only under a policy other than the one that
    rejected it: the same suite under the same thresholds would say the same."""
    if version.state != VersionState.REJECTED:
        return ""
    rejecting = (
        version.validation_runs.filter(status=ValidationStatus.FAILED)
        .order_by("-finished_at", "-id")
        .first()
    )
    if rejecting is None or rejecting.policy != policy_effective(version.model):
        return ""
    return (
        f"{version} was rejected by validation run #{rejecting.pk} under the current policy; "
        "change the model's validation policy (or register a new version) to validate it again"
    )


def validation_start(*, version: ModelVersion, actor: Actor, enqueue: bool = True) -> ValidationRun:
    """Queue a suite run for a version (one active run per version at a time)."""
    actor = as_actor(actor).require("deploy", model=version.model.name, what="validate")
    with transaction.atomic():
        locked = ModelVersion.objects.select_for_update().select_related("model").get(pk=version.pk)
        if locked.state in NOT_VALIDATABLE:
            raise Conflict(f"{locked} is {locked.state}; register a new version instead")
        refused = revalidation_refused(locked)
        if refused:
            raise Conflict(refused, code="same_policy")
        active = locked.validation_runs.filter(status__in=ACTIVE_VALIDATION_STATES).first()
        if active is not None:
            raise Conflict(
                f"{locked} already has validation run #{active.pk} {active.status}",
                code="already_running",
            )
        run = ValidationRun.objects.create(
            version=locked,
            environment=locked.environment,
            policy=policy_effective(locked.model),
            requested_by=actor.user,
        )
        if locked.state in (VersionState.REGISTERED, VersionState.REJECTED):
            version_set_state(
                version=locked,
                state=VersionState.VALIDATING,
                actor=actor,
                reason=f"validation run #{run.pk}",
            )
        audit_record(
            actor=actor,
            action="validation.start",
            target=str(locked),
            after={"run": run.pk, "policy": run.policy},
        )
        if enqueue:
            VALIDATION_RUNS.enqueue_on_commit(run.pk)
    return run


class _Recorder:
    """Appends log lines and check results to the run as they happen (its live progress)."""

    def __init__(self, run: ValidationRun) -> None:
        self.run = run
        self.lines: list[str] = [run.log] if run.log else []

    def log(self, line: str) -> None:
        stamp = timezone.now().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {line}")
        self._save(current_check=self.run.current_check)

    def result(self, result, done: int, total: int) -> None:
        self.run.checks = [*self.run.checks, result.as_dict()]
        self.run.progress = done / total
        self._save(current_check=CHECK_NAMES[done] if done < total else "")

    def _save(self, *, current_check: str) -> None:
        self.run.current_check = current_check
        self.run.log = "\n".join(self.lines)[-100_000:]
        VALIDATION_RUNS.heartbeat(
            self.run,
            log=self.run.log,
            checks=self.run.checks,
            progress=self.run.progress,
            current_check=current_check,
        )


def _verdict(run: ValidationRun) -> str:
    """The run's verdict in the words the deploy gate quotes (ModelVersion.state_reason)."""
    if run.status == ValidationStatus.PASSED:
        return f"latest validation run #{run.pk} passed"
    failed = ", ".join(c["check"] for c in run.checks if not c.get("passed")) or "-"
    return f"latest validation run #{run.pk} {run.status} (failed checks: {failed})"


class ValidationRunLifecycle(Lifecycle[ValidationRun]):
    """A run keeps its first start and logs each attempt; its verdict moves the version."""

    keeps_first_start = True

    def starting(self, task: ValidationRun, *, now, restarted: bool) -> None:
        prefix = f"{task.log}\n" if task.log else ""
        note = "restarted: the previous attempt's worker was lost" if restarted else "started"
        task.checks, task.progress, task.current_check = [], 0.0, CHECK_NAMES[0]
        task.log = f"{prefix}{now:%H:%M:%S} {note} on {task.worker_host} (attempt {task.attempts})"

    def finishing(self, task: ValidationRun) -> None:
        task.current_check = ""
        if task.status != ValidationStatus.ERROR:
            task.progress = 1.0

    def finished(self, task: ValidationRun) -> None:
        """Move the version validating -> validated | rejected on a verdict, and audit it."""
        version = ModelVersion.objects.select_for_update().get(pk=task.version_id)
        target = {
            ValidationStatus.PASSED: VersionState.VALIDATED,
            ValidationStatus.FAILED: VersionState.REJECTED,
        }.get(task.status)
        moves_from = (VersionState.VALIDATING, VersionState.VALIDATED)
        if target and version.state in moves_from and version.state != target:
            version_set_state(version=version, state=target, actor=None, reason=_verdict(task))
        audit_record(
            actor=None,
            action=f"validation.{task.status}",
            target=str(version),
            after={
                "run": task.pk,
                "failed_checks": [c["check"] for c in task.checks if not c["passed"]],
                "error": task.error,
            },
        )

    def lost(self, task: ValidationRun, why: str) -> None:
        task.log = f"{task.log}\n{timezone.now():%H:%M:%S} {why}".strip()

    def why_lost(self, task: ValidationRun) -> str:
        return f"{super().why_lost(task)}; the run was lost"


VALIDATION_RUNS = ValidationRunLifecycle(ValidationRun)


def validation_execute(*, run_id: int, worker_host: str | None = None) -> ValidationRun | None:
    """Run the suite for a queued run (idempotent: a finished run is left as it is)."""
    run = VALIDATION_RUNS.claim(run_id, worker_host or socket.gethostname())
    if run is None:
        return None
    recorder = _Recorder(run)
    try:
        version = ModelVersion.objects.select_related(
            "model", "artifact", "environment", "holdout_dataset"
        ).get(pk=run.version_id)
        ctx = build_context(version, run.policy, recorder.log)
        results = run_checks(ctx, recorder.result)
    except SoftTimeLimitExceeded:
        recorder.log("the run exceeded its time limit")
        return _end(run, ValidationStatus.ERROR, "time limit exceeded")
    except Exception as exc:
        logger.exception("validation run %s crashed", run_id)
        recorder.log(f"error: {type(exc).__name__}: {exc}")
        return _end(run, ValidationStatus.ERROR, f"{type(exc).__name__}: {exc}")
    failed = [r.check for r in results if not r.passed]
    recorder.log(f"verdict: {'FAILED (' + ', '.join(failed) + ')' if failed else 'passed'}")
    return _end(run, ValidationStatus.FAILED if failed else ValidationStatus.PASSED)


def _end(run: ValidationRun, status: str, error: str = "") -> ValidationRun:
    """Finish with the checks and log the worker recorded."""
    return VALIDATION_RUNS.end(run, status, error, checks=run.checks, log=run.log)


# --- selectors ---------------------------------------------------------------------------------


def validation_get(run_id) -> ValidationRun:
    related = ValidationRun.objects.select_related("version__model", "environment", "requested_by")
    return found_by_id(related, run_id, "validation run")


def validation_runs_of(version: ModelVersion):
    return version.validation_runs.select_related("requested_by").order_by("-created_at", "-id")


def validation_latest_verdict(version: ModelVersion) -> ValidationRun | None:
    """The newest run that reached a verdict (passed or failed)."""
    return (
        version.validation_runs.filter(
            status__in=[ValidationStatus.PASSED, ValidationStatus.FAILED]
        )
        .order_by("-finished_at", "-id")
        .first()
    )
