"""An audit entry's before/after as readable changes: one line per field, before -> after."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

VARIANT_KEYS = {"version", "weight", "role"}


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str | None  # None: the field did not exist before (created)
    after: str | None  # None: the field is gone after (removed)


def _variant(item: dict) -> str:
    return f"v{item['version']} {item['weight']}% {item['role']}"


def show(value) -> str:
    """A value as an operator reads it: text plain, a variant list as `v1 80% primary`."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value or '""'
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        if not value:
            return "nothing"
        if all(isinstance(v, dict) and v.keys() >= VARIANT_KEYS for v in value):
            return ", ".join(_variant(v) for v in value)
        if all(not isinstance(v, dict | list) for v in value):
            return ", ".join(show(v) for v in value)
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def audit_changes(before, after) -> list[FieldChange]:
    """What changed between two recorded states; unchanged fields are left out. Two dicts are
    compared field by field; anything else is one change of the whole value."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for name in [*before, *(k for k in after if k not in before)]:
            old, new = before.get(name), after.get(name)
            if name in before and name in after and old == new:
                continue
            changes.append(
                FieldChange(
                    str(name),
                    show(old) if name in before else None,
                    show(new) if name in after else None,
                )
            )
        return changes
    if isinstance(after, dict) and before is None:
        return [FieldChange(str(k), None, show(v)) for k, v in after.items()]
    if isinstance(before, dict) and after is None:
        return [FieldChange(str(k), show(v), None) for k, v in before.items()]
    if before is None and after is None:
        return []
    return [
        FieldChange(
            "state",
            show(before) if before is not None else None,
            show(after) if after is not None else None,
        )
    ]
