"""What every check receives (the warmed runtime, its batcher, the policy) and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.errors import InvalidInput, ServiceError
from serving.inference import check_feeds
from serving.protocols import jsonio


@dataclass
class CheckResult:
    """One check's verdict and its measurements."""

    check: str
    passed: bool
    metrics: dict[str, Any] = field(default_factory=dict)
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "passed": self.passed,
            "metrics": self.metrics,
            "message": self.message,
        }


def serving_path_status(signature: dict, body: bytes, *, max_rows: int) -> tuple[int, str]:
    """What the serving path answers to a native predict body before the model: 200, 4xx or 500.

    The same parse and `check_feeds` that every protocol runs; any exception other than a typed
    refusal is what a client would see as a 500.
    """
    try:
        parsed = jsonio.parse_tensors(body, signature, only_tensors=True)
        check_feeds(signature, parsed.feeds, max_rows=max_rows)
    except ServiceError as exc:
        return exc.status, exc.message
    except Exception as exc:  # noqa: BLE001 - the point is to report it as a 500
        return 500, f"{type(exc).__name__}: {exc}"
    return 200, ""


@dataclass
class SuiteContext:
    """The version under test, loaded and warmed, with everything the checks compare against."""

    version: Any
    signature: dict
    runtime: Any  # serving.runtime.ModelRuntime (warmed)
    batcher: Any  # serving.batching.Batcher over runtime.predict
    policy: dict[str, Any]
    max_batch_size: int
    max_request_rows: int
    task: str = "other"
    holdout: tuple[dict[str, np.ndarray], np.ndarray | None] | None = None
    production: Any = None  # the ModelVersion serving `production`, if another one
    production_runtime: Callable[[], Any] | None = None  # loads it on demand
    environment: Any = None  # registry EnvironmentSpec or None
    worker_env: dict[str, Any] = field(default_factory=dict)
    request_status: Callable[[dict, bytes, int], tuple[int, str]] = None  # type: ignore[assignment]
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        if self.request_status is None:
            self.request_status = lambda sig, body, rows: serving_path_status(
                sig, body, max_rows=rows
            )

    def check_request(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Checked like a request: refused (InvalidInput) or converted to the model's arrays."""
        arrays, _ = check_feeds(self.signature, feeds, max_rows=self.max_batch_size)
        return arrays


def sample_feeds(signature: dict, rows: int, *, seed: int = 0, fill=None) -> dict[str, np.ndarray]:
    """Synthetic inputs of the signature's shapes (variable dims 1): normal floats, small ints."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in signature["inputs"]:
        shape = (rows, *(1 if d < 0 else d for d in spec["shape"][1:]))
        dtype = spec["dtype"]
        if dtype == "string":
            array = np.full(shape, b"x", dtype=object)
        elif dtype == "bool":
            array = rng.random(shape) < 0.5
        elif dtype.startswith(("int", "uint")):
            array = rng.integers(0, 10, size=shape).astype(dtype)
        else:
            numpy_dtype = "float32" if dtype == "bfloat16" else dtype
            array = (
                np.full(shape, fill, dtype=numpy_dtype)
                if fill is not None
                else rng.normal(size=shape).astype(numpy_dtype)
            )
        feeds[spec["name"]] = array
    return feeds


def float_inputs(signature: dict) -> list[str]:
    return [s["name"] for s in signature["inputs"] if s["dtype"].startswith(("float", "bfloat"))]


def refused(error: BaseException) -> bool:
    return isinstance(error, InvalidInput)
