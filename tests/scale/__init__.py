"""Production shape: deploy files, readiness, JSON logs, graceful shutdown, scale-out."""
