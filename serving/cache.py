"""The optional prediction cache: identical inputs to the same version answer from the shared
cache (Redis in production) without running the model."""

from __future__ import annotations

import hashlib
import logging

import numpy as np
from django.core.cache import cache

logger = logging.getLogger(__name__)


def key_for(version_id: int, feeds: dict[str, np.ndarray]) -> str:
    """Version + a hash of every input's name, dtype, shape and bytes."""
    digest = hashlib.blake2b(digest_size=16)
    for name in sorted(feeds):
        array = np.ascontiguousarray(feeds[name])
        digest.update(name.encode())
        digest.update(str(array.dtype).encode())
        digest.update(str(array.shape).encode())
        if array.dtype == object:
            for item in array.ravel():
                digest.update(item if isinstance(item, bytes) else str(item).encode())
        else:
            digest.update(array.tobytes())
    return f"pred:{version_id}:{digest.hexdigest()}"


def get(key: str) -> dict | None:
    try:
        return cache.get(key)
    except Exception:  # a cache outage costs a model call, never an error
        logger.warning("prediction cache unreachable on get")
        return None


def set(key: str, outputs: dict, ttl: int) -> None:  # noqa: A001 - mirrors the cache API
    try:
        cache.set(key, outputs, ttl)
    except Exception:
        logger.warning("prediction cache unreachable on set")
