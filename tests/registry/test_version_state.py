"""Version states move only along legal transitions, each audited."""

from __future__ import annotations

import pytest

from core.errors import Conflict
from core.models import AuditEntry
from registry.models import ModelVersion
from registry.services import version_register, version_set_state


@pytest.fixture
def version(alice, keras_model_file):
    return version_register(
        model_name="churn", upload=keras_model_file, filename="m.keras", actor=alice
    )


@pytest.mark.django_db
def test_it_walks_registered_validating_validated(version, alice):
    version_set_state(version=version, state="validating", actor=alice)
    version_set_state(version=version, state="validated", actor=alice, reason="suite passed")
    assert ModelVersion.objects.get(pk=version.pk).state == "validated"
    entry = AuditEntry.objects.filter(action="model_version.state").first()
    assert entry.before == {"state": "validating"}
    assert entry.after == {"state": "validated", "reason": "suite passed"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", [["validated"], ["rejected"], ["validating", "registered"]])
def test_it_refuses_illegal_moves(version, alice, path):
    *legal, illegal = path
    for state in legal:
        version_set_state(version=version, state=state, actor=alice)
    with pytest.raises(Conflict, match=f"cannot move from .* to {illegal}"):
        version_set_state(version=version, state=illegal, actor=alice)
    assert ModelVersion.objects.get(pk=version.pk).state == (legal[-1] if legal else "registered")


@pytest.mark.django_db
def test_it_archives_from_any_state_once(version, alice):
    version_set_state(version=version, state="validating", actor=alice)
    version_set_state(version=version, state="archived", actor=alice)
    with pytest.raises(Conflict):
        version_set_state(version=version, state="archived", actor=alice)
    assert ModelVersion.objects.get(pk=version.pk).state == "archived"
