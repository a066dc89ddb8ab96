"""Rows looked up by an id that came from outside (a URL, a form field, a JSON body)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from core.errors import NotFound

M = TypeVar("M", bound=Model)


def row_by_id(queryset: QuerySet[M], value: Any) -> M | None:
    """The row of `queryset` whose primary key is `value` (an int or its digits); None when
    there is none or `value` is not a whole number, so the caller raises the error it means
    (NotFound for a path, InvalidInput for a field)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return queryset.filter(pk=pk).first()


def found_by_id(queryset: QuerySet[M], value: Any, what: str) -> M:
    """row_by_id for a path: NotFound ("{what} {value!r} does not exist") when there is none."""
    row = row_by_id(queryset, value)
    if row is None:
        raise NotFound(f"{what} {value!r} does not exist")
    return row
