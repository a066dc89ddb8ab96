"""Triton's HTTP extensions that its clients and tools call beside OIP v2: model configuration
(`GET /v2/models/<m>/config`), the repository index (`POST /v2/repository/index`) and model
statistics (`GET /v2/models/<m>/stats`). Bodies only; the gateway resolves what they describe."""

from __future__ import annotations

from typing import Any

from serving.protocols import jsonio
from serving.protocols.oip import SIGNATURE_DATATYPES

# Triton's model configuration names BYTES tensors TYPE_STRING; the others are TYPE_<datatype>.
_CONFIG_TYPES = {"BYTES": "TYPE_STRING"}


def _config_type(dtype: str) -> str:
    datatype = SIGNATURE_DATATYPES.get(dtype, "BYTES")
    return _CONFIG_TYPES.get(datatype, f"TYPE_{datatype}")


def _config_tensor(spec: dict) -> dict[str, Any]:
    # With max_batch_size > 0 Triton's dims leave out the batch dimension.
    return {
        "name": spec["name"],
        "data_type": _config_type(spec["dtype"]),
        "dims": [int(d) for d in spec["shape"][1:]],
    }


def config_body(
    name: str, *, platform: str, max_batch_size: int, signature: dict, runtime_info: dict
) -> bytes:
    """The model configuration as Triton writes it; XLA's state (and why it is off) rides in
    `parameters`, the place Triton keeps backend settings."""
    xla = runtime_info.get("xla")
    reason = runtime_info.get("xla_error") or ""
    parameters = {
        "xla": {"string_value": "on" if xla else f"off: {reason}" if reason else "off"},
        "device": {"string_value": str(runtime_info.get("device", ""))},
    }
    return jsonio.dumps(
        {
            "name": name,
            "platform": platform,
            "backend": "tensorflow",
            "max_batch_size": max_batch_size,
            "input": [_config_tensor(spec) for spec in signature["inputs"]],
            "output": [_config_tensor(spec) for spec in signature["outputs"]],
            "dynamic_batching": {"max_queue_delay_microseconds": 0},
            "parameters": parameters,
        }
    )


def index_body(entries: list[dict], *, ready_only: bool) -> bytes:
    """`[{"name", "version", "state", "reason"}]`; `ready_only` keeps the READY ones."""
    if ready_only:
        entries = [e for e in entries if e["state"] == "READY"]
    return jsonio.dumps(entries)


def _duration(count: int, seconds: float) -> dict[str, int]:
    return {"count": int(count), "ns": int(seconds * 1e9)}


def stats_body(entries: list[dict]) -> bytes:
    """`{"model_stats": [...]}` from `[{"name", "version", "success", "fail", "seconds"}]`."""
    stats = []
    for e in entries:
        success, fail = e["success"], e["fail"]
        stats.append(
            {
                "name": e["name"],
                "version": str(e["version"]),
                "last_inference": 0,
                "inference_count": int(success),
                "execution_count": int(success),
                "inference_stats": {
                    "success": _duration(success, e["seconds"]),
                    "fail": _duration(fail, 0.0),
                    "queue": _duration(0, 0.0),
                    "compute_input": _duration(0, 0.0),
                    "compute_infer": _duration(success, e["seconds"]),
                    "compute_output": _duration(0, 0.0),
                    "cache_hit": _duration(e.get("cache_hits", 0), 0.0),
                    "cache_miss": _duration(0, 0.0),
                },
                "batch_stats": [],
            }
        )
    return jsonio.dumps({"model_stats": stats})
