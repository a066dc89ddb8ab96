"""core.lookups.row_by_id: an id from a URL or a body finds its row, anything else finds none."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from core.errors import NotFound
from core.lookups import found_by_id, row_by_id

pytestmark = pytest.mark.django_db


def test_an_id_finds_its_row_and_anything_else_finds_none(alice):
    users = get_user_model().objects.all()
    assert row_by_id(users, alice.pk) == alice
    assert row_by_id(users, str(alice.pk)) == alice
    for value in (alice.pk + 1000, "abc", "1.5", None, [alice.pk], ""):
        assert row_by_id(users, value) is None, value


def test_found_by_id_names_what_a_path_asked_for(alice):
    users = get_user_model().objects.all()
    assert found_by_id(users, str(alice.pk), "user") == alice
    with pytest.raises(NotFound, match="user 'abc' does not exist"):
        found_by_id(users, "abc", "user")
