"""gRPC front of the prediction path: OIP's `inference.GRPCInferenceService`, TF Serving's
`PredictionService` and `ModelService`, and `grpc.health.v1`, all on one port (GRPC_PORT).

The messages are never hand-written: OIP's come from tritonclient's generated modules (generated
by Triton from the official `grpc_service.proto`), TF Serving's from the official protos through
`regenerate.py` into `tfs/`. Servicers only translate; authentication, limits, routing, the cache,
the batcher and prediction events are the REST path's own (serving/gateway.py, inference.py).
"""
