"""TensorFlow device setup: done once per process, before the first model loads.

GPU memory growth and thread pools can only be set before TensorFlow initialises its runtime,
so every process that serves or validates models calls `configure_tensorflow()` first; later
calls return the same answer. What it finds is reported by `describe()` (heartbeats, and the
parity check against a version's EnvironmentSpec).
"""

from __future__ import annotations

import platform
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings

_lock = threading.Lock()
_configured: DeviceInfo | None = None


@dataclass(frozen=True)
class DeviceInfo:
    """Where models run in this process and with which TensorFlow/CUDA build."""

    device: str
    gpus: list[dict[str, Any]]
    cuda_version: str | None
    cudnn_version: str | None
    tf_version: str
    fallback_reason: str | None
    inter_op_threads: int | None = None
    intra_op_threads: int | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _set_threads(tf, inter: int | None, intra: int | None, notes: list[str]) -> None:
    # TensorFlow refuses a change after its runtime started; same value is accepted silently.
    if inter is not None:
        try:
            tf.config.threading.set_inter_op_parallelism_threads(inter)
        except RuntimeError as exc:
            notes.append(f"inter-op threads not set to {inter}: {exc}")
    if intra is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(intra)
        except RuntimeError as exc:
            notes.append(f"intra-op threads not set to {intra}: {exc}")


def _gpu_details(tf, gpu) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": gpu.name}
    try:
        details = tf.config.experimental.get_device_details(gpu)
    except Exception:  # noqa: BLE001 - details are decoration, never a reason to fail
        details = {}
    if details.get("device_name"):
        entry["model"] = details["device_name"]
    if details.get("compute_capability"):
        entry["compute_capability"] = ".".join(str(v) for v in details["compute_capability"])
    return entry


def configure_tensorflow() -> DeviceInfo:
    """Enable GPU memory growth, set thread pools from the environment, pick the device."""
    global _configured
    with _lock:
        if _configured is not None:
            return _configured
        import tensorflow as tf

        notes: list[str] = []
        # Checked at start-up (console/settings.py): whole numbers, None or 0 = TensorFlow's.
        inter, intra = settings.MODELGATE_TF_INTER_OP, settings.MODELGATE_TF_INTRA_OP
        gpus = tf.config.list_physical_devices("GPU")
        for gpu in gpus:
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except (RuntimeError, ValueError) as exc:
                # Already initialised by someone else: growth keeps whatever was set then.
                notes.append(f"memory growth not changed on {gpu.name}: {exc}")
        _set_threads(tf, inter, intra, notes)
        gpu_entries = [_gpu_details(tf, gpu) for gpu in gpus]
        if gpus:
            device, fallback = "/GPU:0", None
        else:
            device = "/CPU:0"
            fallback = "no GPU visible"
            if not tf.test.is_built_with_cuda():
                fallback += " (this TensorFlow build has no CUDA support)"
            elif settings.CUDA_VISIBLE_DEVICES in ("", "-1"):
                fallback += " (CUDA_VISIBLE_DEVICES hides every GPU)"
        build = dict(tf.sysconfig.get_build_info())
        _configured = DeviceInfo(
            device=device,
            gpus=gpu_entries,
            cuda_version=build.get("cuda_version"),
            cudnn_version=build.get("cudnn_version"),
            tf_version=tf.__version__,
            fallback_reason=fallback,
            inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads() or None,
            intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads() or None,
            notes=notes,
        )
        return _configured


def describe() -> dict[str, Any]:
    """The runtime facts a heartbeat reports and a parity check compares with an EnvironmentSpec."""
    info = configure_tensorflow()
    import keras

    return {
        **info.as_dict(),
        "python": platform.python_version(),
        "keras_version": keras.__version__,
        "platform": platform.platform(),
        "gpu_count": len(info.gpus),
    }


def _reset_for_tests() -> None:
    """Forget the cached answer so a test can configure again (TF itself stays initialised)."""
    global _configured
    with _lock:
        _configured = None
