"""Registry reads: models with their latest version, versions, environments, datasets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery

from core.errors import NotFound
from core.lookups import found_by_id
from registry.constants import DatasetFormat
from registry.datasets import dataset_parse, input_columns, npz_features_mapped
from registry.models import Dataset, EnvironmentSpec, ModelVersion, RegisteredModel

_VERSION_RELATED = (
    "model",
    "artifact",
    "environment",
    "holdout_dataset",
    "reference_dataset",
    "created_by",
)


def model_list_with_latest() -> list[RegisteredModel]:
    """Every model with `version_count` and `latest_version` (None without versions); 2 queries."""
    counted = RegisteredModel.objects.annotate(version_count=Count("versions"))
    models = list(counted.order_by("name"))
    newest = ModelVersion.objects.filter(model=OuterRef("model")).order_by("-number")
    latest = {
        v.model_id: v
        for v in ModelVersion.objects.filter(number=Subquery(newest.values("number")[:1]))
    }
    for model in models:
        model.latest_version = latest.get(model.pk)
    return models


def model_get(name: str) -> RegisteredModel:
    model = (
        RegisteredModel.objects.annotate(version_count=Count("versions"))
        .select_related("owner")
        .filter(name=name)
        .first()
    )
    if model is None:
        raise NotFound(f"model {name!r} does not exist")
    return model


def version_list(model: RegisteredModel) -> QuerySet[ModelVersion]:
    """A model's versions, newest first."""
    return model.versions.select_related(*_VERSION_RELATED).order_by("-number")


def version_get(model_name: str, number: int | str) -> ModelVersion:
    try:
        number = int(number)
    except (TypeError, ValueError):
        raise NotFound(f"{number!r} is not a version number") from None
    version = (
        ModelVersion.objects.select_related(*_VERSION_RELATED)
        .filter(model__name=model_name, number=number)
        .first()
    )
    if version is None:
        if not RegisteredModel.objects.filter(name=model_name).exists():
            raise NotFound(f"model {model_name!r} does not exist")
        raise NotFound(f"model {model_name!r} has no version {number}")
    return version


def environment_list() -> QuerySet[EnvironmentSpec]:
    return EnvironmentSpec.objects.order_by("name")


def environment_get(name: str) -> EnvironmentSpec:
    spec = EnvironmentSpec.objects.filter(name=name).first()
    if spec is None:
        raise NotFound(f"environment {name!r} does not exist")
    return spec


def dataset_list() -> QuerySet[Dataset]:
    return Dataset.objects.select_related("created_by").order_by("-created_at", "-id")


def dataset_get(dataset_id: int | str) -> Dataset:
    return found_by_id(Dataset.objects.all(), dataset_id, "dataset")


def dataset_file_path(dataset: Dataset) -> Path:
    return Path(settings.MODELGATE_DATASET_ROOT) / dataset.path


def dataset_load(dataset: Dataset) -> tuple[np.ndarray, np.ndarray | None]:
    """The features as a float32 matrix (columns in schema order) and the labels, if any."""
    parsed = dataset_parse(dataset_file_path(dataset), dataset.format, label_column=dataset.label)
    return parsed.features(), parsed.labels


def dataset_inputs(
    dataset: Dataset, signature: dict
) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The dataset as model feeds `{input_name: array shaped like the input}`, plus labels."""
    parsed = dataset_parse(dataset_file_path(dataset), dataset.format, label_column=dataset.label)
    specs = {spec["name"]: spec for spec in signature["inputs"]}
    feeds = {
        name: _as_input(np.column_stack([parsed.columns[c] for c in columns]), specs[name])
        for name, columns in input_columns(parsed.schema, signature).items()
    }
    return feeds, parsed.labels


def dataset_input_batches(
    dataset: Dataset, signature: dict, batch_rows: int
) -> Iterator[dict[str, np.ndarray]]:
    """The dataset's feeds in batches of `batch_rows` rows (the last one shorter), as in
    `dataset_inputs`. A single-input .npz feature matrix is read from disk one batch at a time,
    so a dataset larger than memory can be scored; other files are parsed whole first."""
    specs = signature["inputs"]
    if dataset.format == DatasetFormat.NPZ and len(specs) == 1:
        mapped = npz_features_mapped(dataset_file_path(dataset), dataset.label)
        if mapped is not None:
            return _mapped_batches(mapped, specs[0], batch_rows)
    return _parsed_batches(dataset, signature, batch_rows)


def _mapped_batches(mapped: np.ndarray, spec: dict, batch_rows: int):
    for start in range(0, len(mapped), batch_rows):
        # A copy in memory: the read from disk happens here, not inside the model call.
        batch = np.array(mapped[start : start + batch_rows], dtype=_input_dtype(spec))
        yield {spec["name"]: _as_input(batch, spec)}


def _parsed_batches(dataset: Dataset, signature: dict, batch_rows: int):
    feeds, _ = dataset_inputs(dataset, signature)
    rows = len(next(iter(feeds.values())))
    for start in range(0, rows, batch_rows):
        yield {name: value[start : start + batch_rows] for name, value in feeds.items()}


def _input_dtype(spec: dict) -> str:
    return spec["dtype"] if spec["dtype"] != "bfloat16" else "float32"


def _as_input(matrix: np.ndarray, spec: dict) -> np.ndarray:
    """A (rows x columns) matrix shaped and typed like the input `spec`."""
    dims = spec["shape"][1:]
    if dims and all(d >= 0 for d in dims):
        matrix = matrix.reshape([len(matrix), *dims])
    elif not dims:
        matrix = matrix[:, 0]
    return matrix.astype(_input_dtype(spec), copy=False)  # callers pass a fresh matrix
