"""Wire formats of the prediction path: bytes in, `dict[str, np.ndarray]` out, and back.

Pure translation code: nothing here batches, caches, routes or authenticates, and nothing imports
Django. `tfserving` speaks TensorFlow Serving's v1 REST API, `oip` the Open Inference Protocol v2
with Triton's binary tensor extension, `native` Modelgate's own predict endpoint; `jsonio` is the
JSON codec they share (with TF Serving's tensor documents, which native takes too). `table`
declares each protocol's paths, parse, format and error for the rest of serving.
"""
