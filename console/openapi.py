"""How drf-spectacular describes the API: fixed text and names, read by console/settings.py."""

OPENAPI_SETTINGS = {
    "TITLE": "Modelgate API",
    "DESCRIPTION": "Register, validate, deploy, serve and monitor TensorFlow/Keras models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {  # several models have a `status`: name each choice set
        "ValidationStatusEnum": "jobs.models.ValidationStatus",
        "BatchJobStatusEnum": "jobs.models.BatchJobStatus",
        "ExperimentStatusEnum": "monitoring.constants.ExperimentStatus",
        "KeyStatusEnum": ["active", "expired", "revoked"],
    },
}
