"""Decided at load time, before XLA is tried: whether it may compile a model at all, and the
numpy dtype of each signature dtype (strings as objects)."""

from __future__ import annotations

import logging

import numpy as np

from registry import modelio

log = logging.getLogger(__name__)


def numpy_dtype(name: str) -> np.dtype:
    import tensorflow as tf

    dtype = tf.as_dtype(name)
    return np.dtype(object) if dtype == tf.string else np.dtype(dtype.as_numpy_dtype)


def xla_refusal(loaded: modelio.LoadedModel) -> str | None:
    """Why XLA must not even try this model, or None.

    XLA has no string type, so a string tensor anywhere (an input, an output, a vocabulary
    lookup inside) means it cannot compile. Worse than refusing, TensorFlow 2.21 aborts the whole
    process (a C++ CHECK in the compilation cache's signature hash) when a string argument reaches
    a jit-compiled function once any other XLA cluster was compiled, so strings are decided up
    front, from the signature and from one plain trace of the model's graph.
    """
    for kind, tensors in (("input", loaded.inputs), ("output", loaded.outputs)):
        for t in tensors:
            if t.dtype == "string":
                return f"XLA cannot compile string tensors ({kind} {t.name!r})"
    for t in loaded.inputs:
        if any(d < 0 for d in t.shape[1:]):
            # Warm-up can compile one length per bucket, not every length clients will send.
            return (
                f"input {t.name!r} has a variable dimension; XLA would compile each new shape "
                "on the request path"
            )
    node = _string_node(loaded)
    if node is not None:
        return f"XLA cannot compile string tensors (op {node!r} inside the model)"
    return None


def _string_node(loaded: modelio.LoadedModel) -> str | None:
    """The first graph node (function library included) that carries a string tensor."""
    import tensorflow as tf

    specs = {
        t.name: tf.TensorSpec([None, *(None if d < 0 else d for d in t.shape[1:])], t.dtype)
        for t in loaded.inputs
    }
    try:
        graph_def = tf.function(loaded.call).get_concrete_function(specs).graph.as_graph_def()
    except Exception:  # noqa: BLE001 - not traceable this way: let the XLA attempt decide
        log.debug("could not trace the model to look for string ops", exc_info=True)
        return None
    string = tf.string.as_datatype_enum
    nodes = [*graph_def.node, *(n for f in graph_def.library.function for n in f.node_def)]
    for node in nodes:
        for value in node.attr.values():
            if value.type == string or string in value.list.type:
                return node.name
    return None
