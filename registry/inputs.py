"""Checking and normalising what callers hand the registry services (names, tags, metrics,
URLs, references to environments and datasets, upload sizes and kinds)."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from core.errors import InvalidInput, PayloadTooLarge
from core.lookups import row_by_id
from registry.archives import archive_kind
from registry.artifacts import max_upload_bytes
from registry.constants import MODEL_NAME_RE, ArtifactFormat
from registry.models import Dataset, EnvironmentSpec

MAX_TAGS = 50
TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/=+-]{0,63}$")


def upload_size(upload: Any) -> int | None:
    if isinstance(upload, str | os.PathLike):
        try:
            return os.path.getsize(upload)
        except OSError as exc:
            raise InvalidInput(f"cannot read {upload}: {exc.strerror}") from exc
    return getattr(upload, "size", None)


def check_size(upload: Any, what: str) -> None:
    size, limit = upload_size(upload), max_upload_bytes()
    if size is not None and size > limit:
        raise PayloadTooLarge(f"the {what} is {size} bytes; the limit is {limit} bytes")


def check_model_name(name: str) -> str:
    name = (name or "").strip()
    if not MODEL_NAME_RE.match(name):
        raise InvalidInput(
            f"invalid model name {name!r}: use 1-100 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def clean_tags(tags) -> list[str]:
    if isinstance(tags, str):
        tags = tags.split(",")
    cleaned: list[str] = []
    for tag in tags or ():
        tag = str(tag).strip()
        if not tag:
            continue
        if not TAG_RE.match(tag):
            raise InvalidInput(f"invalid tag {tag!r}: up to 64 letters, digits and _.:/=+-")
        if tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise InvalidInput(f"at most {MAX_TAGS} tags")
    return cleaned


def clean_metrics(metrics) -> dict[str, float]:
    if metrics in (None, ""):
        return {}
    if isinstance(metrics, str):
        try:
            metrics = json.loads(metrics)
        except ValueError as exc:
            raise InvalidInput(f"training_metrics is not valid JSON: {exc}") from exc
    if not isinstance(metrics, dict):
        raise InvalidInput('training_metrics must be a JSON object such as {"accuracy": 0.93}')
    cleaned = {}
    for key, value in metrics.items():
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            raise InvalidInput(f"training metric {key!r} must be a finite number, got {value!r}")
        cleaned[str(key)] = value
    return cleaned


def clean_run_url(url: str) -> str:
    url = (url or "").strip()
    if url:
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise InvalidInput(f"run_url {url!r} is not an http(s) URL") from None
    return url


def resolve_environment(environment) -> EnvironmentSpec | None:
    if environment in (None, ""):
        return None
    if isinstance(environment, EnvironmentSpec):
        return environment
    spec = EnvironmentSpec.objects.filter(name=str(environment)).first()
    if spec is None:
        raise InvalidInput(f"environment {environment!r} does not exist")
    return spec


def resolve_dataset(dataset, role: str) -> Dataset | None:
    if dataset in (None, ""):
        return None
    if isinstance(dataset, Dataset):
        return dataset
    found = row_by_id(Dataset.objects.all(), dataset)
    if found is None:
        raise InvalidInput(f"{role} dataset {dataset!r} does not exist")
    return found


def artifact_format(filename: str) -> str:
    if filename.lower().endswith(".keras"):
        return ArtifactFormat.KERAS
    if archive_kind(filename):
        return ArtifactFormat.SAVEDMODEL
    raise InvalidInput(
        f"unsupported artifact file {filename!r}: upload a .keras file or a SavedModel directory "
        "packed as .zip, .tar.gz or .tgz"
    )
