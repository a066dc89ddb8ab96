"""Numeric or categorical: how drift treats each column of a reference dataset.

Undeclared columns keep what Evidently would infer from the reference alone (a numeric column
with at most 5 distinct values is categorical); a declaration overrides it, for example a coded
column with 12 levels that is categorical all the same. monitoring/drift_service.py applies the
declarations of a version's reference dataset.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction

from accounts.actors import as_actor
from core.actor import Actor
from core.audit import audit_record
from core.errors import InvalidInput
from registry.datasets import input_columns
from registry.models import Dataset
from registry.selectors import dataset_load

NUMERIC, CATEGORICAL, INFERRED = "numeric", "categorical", "auto"
KINDS = (NUMERIC, CATEGORICAL)
CATEGORICAL_MAX_UNIQUE = 5  # Evidently's rule, as in monitoring/drift.py
INFERENCE_ROWS = 100_000


def infer_kind(values: np.ndarray) -> str:
    values = values[:INFERENCE_ROWS]
    if values.dtype.kind not in "biuf":
        return CATEGORICAL
    finite = values[~np.isnan(values)] if values.dtype.kind == "f" else values
    return CATEGORICAL if np.unique(finite).size <= CATEGORICAL_MAX_UNIQUE else NUMERIC


def dataset_columns(dataset: Dataset) -> list[dict]:
    """Each feature column: name, dtype, the inferred kind, the declaration and what applies."""

    features, _ = dataset_load(dataset)
    rows = []
    for i, spec in enumerate(dataset.schema.get("features", [])):
        inferred = infer_kind(np.asarray(features[:, i]))
        declared = dataset.column_kinds.get(spec["name"], "")
        rows.append(
            {
                "name": spec["name"],
                "dtype": spec["dtype"],
                "inferred": inferred,
                "declared": declared,
                "kind": declared or inferred,
            }
        )
    return rows


@transaction.atomic
def dataset_set_column_kinds(*, dataset: Dataset, kinds: dict, actor: Actor) -> Dataset:
    """Declare columns numeric or categorical (`auto` returns a column to the inferred kind)."""
    actor = as_actor(actor).require("deploy", what="declare column kinds")
    if not isinstance(kinds, dict) or not kinds:
        raise InvalidInput('send {"column": "numeric" | "categorical" | "auto"} pairs')
    locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
    known = set(locked.feature_names)
    unknown = sorted(set(kinds) - known)
    if unknown:
        raise InvalidInput(
            f"{locked} has no column(s) {', '.join(map(repr, unknown))}; its columns are "
            f"{', '.join(locked.feature_names)}"
        )
    bad = {name: kind for name, kind in kinds.items() if kind not in (*KINDS, INFERRED)}
    if bad:
        name, kind = next(iter(bad.items()))
        raise InvalidInput(f"column {name!r}: {kind!r} is not numeric, categorical or auto")
    before = dict(locked.column_kinds)
    declared = {**before, **kinds}
    locked.column_kinds = {n: k for n, k in declared.items() if k != INFERRED}
    locked.save(update_fields=["column_kinds"])
    audit_record(
        actor=actor,
        action="dataset.column_kinds",
        target=f"dataset:{locked.pk}",
        before={"column_kinds": before},
        after={"column_kinds": locked.column_kinds},
    )
    return locked


def declared_feature_kinds(dataset: Dataset | None, signature: dict) -> dict[int, str]:
    """Declarations by position in the model's flattened inputs (the drift matrix's columns),
    or {} when the dataset does not map onto this signature."""
    if dataset is None or not dataset.column_kinds:
        return {}
    try:
        mapping = input_columns(dataset.schema, signature)
    except InvalidInput:
        return {}
    columns = [c for spec in signature.get("inputs", []) for c in mapping.get(spec["name"], [])]
    return {i: dataset.column_kinds[c] for i, c in enumerate(columns) if c in dataset.column_kinds}
