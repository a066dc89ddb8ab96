"""core.lookups.row_by_id: an id from a URL or a body finds its row, anything else finds none."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from core.lookups import row_by_id

pytestmark = pytest.mark.django_db


def test_an_id_finds_its_row_and_anything_else_finds_none(alice):
    users = get_user_model().objects.all()
    assert row_by_id(users, alice.pk) == alice
    assert row_by_id(users, str(alice.pk)) == alice
    for value in (alice.pk + 1000, "abc", "1.5", None, [alice.pk], ""):
        assert row_by_id(users, value) is None, value
