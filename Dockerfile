# One image for every Python service (web, serving, worker, worker-gpu, beat, migrate): the same
# base, the same pinned versions (deploy/constraints.txt), built from this one file.
#   docker build -t modelgate:1.0.0-cpu .
#   docker build --build-arg TF_EXTRA=gpu -t modelgate:1.0.0-gpu .   # tensorflow[and-cuda]
# The base is pinned by digest: a tag can be re-pushed, a digest cannot. deploy/environments/
# records the same digest, so the registry's parity check compares against what runs.
ARG BASE_IMAGE=python:3.11.11-slim-bookworm@sha256:081075da77b2b55c23c088251026fb69a7b2bf92471e491ff5fd75c192fd38e5
FROM ${BASE_IMAGE}

ARG TF_EXTRA=cpu
LABEL org.opencontainers.image.title="modelgate" \
      org.opencontainers.image.description="Model registry, validation, serving and monitoring" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MODELGATE_VAR_DIR=/data DJANGO_SETTINGS_MODULE=console.settings MODELGATE_DEV_ENV="" \
    MODELGATE_LOG_FORMAT=json TF_CPP_MIN_LOG_LEVEL=2 \
    MODELGATE_TF_EXTRA=${TF_EXTRA}

WORKDIR /app
COPY deploy/constraints.txt deploy/constraints.txt
COPY pyproject.toml README.md manage.py ./
COPY accounts accounts
COPY registry registry
COPY serving serving
COPY monitoring monitoring
COPY console console
COPY templates templates
COPY static static
COPY deploy deploy
RUN if [ "${TF_EXTRA}" != "cpu" ] && [ "${TF_EXTRA}" != "gpu" ]; then \
        echo "TF_EXTRA must be cpu or gpu" >&2; exit 1; fi \
    && pip install --no-cache-dir -c deploy/constraints.txt ".[${TF_EXTRA}]" \
    && DEBUG=1 SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && useradd --create-home --uid 1000 modelgate \
    && mkdir -p /data/artifacts/batch-jobs /var/cache/modelgate \
    && chown -R modelgate /data /var/cache/modelgate
# Every process runs as this user; compose and Kubernetes add a read-only root filesystem, the
# store read-only where a process only reads it, and scratch space in /tmp and
# /var/cache/modelgate (SavedModels unpacked for loading).
USER 1000
EXPOSE 8000 8001 8500
# Every process handles SIGTERM itself: granian and gunicorn finish in-flight requests, then drain
# the batchers and flush prediction events on exit; Celery finishes the running task (warm
# shutdown).
STOPSIGNAL SIGTERM
# Serving processes: one per core (GRANIAN_WORKERS), 16 blocking threads each (bench/serving.py).
ENV GRANIAN_WORKERS=2 GRANIAN_BLOCKING_THREADS=16
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8001", "--workers-kill-timeout", "30", "--respawn-failed-workers", "console.wsgi:application"]
