"""Give tests a version that passed validation without running the timed suite.

A real ValidationRun row (status passed, every check recorded) and the registry's own state
moves, so the promotion gate sees exactly what a worker would leave behind.
"""

from __future__ import annotations

from django.utils import timezone


def mark_validated(version, *, actor=None):
    """Record a passed validation run for `version` and move it to `validated`."""
    from jobs.models import ValidationRun, ValidationStatus
    from jobs.validation.policy import policy_effective
    from jobs.validation.suite import CHECK_NAMES
    from registry.constants import VersionState
    from registry.services import version_set_state

    now = timezone.now()
    run = ValidationRun.objects.create(
        version=version,
        status=ValidationStatus.PASSED,
        progress=1.0,
        policy=policy_effective(version.model),
        checks=[
            {"check": name, "passed": True, "metrics": {}, "message": "recorded by a test"}
            for name in CHECK_NAMES
        ],
        started_at=now,
        heartbeat_at=now,
        finished_at=now,
    )
    for state in (VersionState.VALIDATING, VersionState.VALIDATED):
        if version.state != state:
            version_set_state(version=version, state=state, actor=actor, reason="test fixture")
    return run
