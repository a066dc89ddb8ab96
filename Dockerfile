# One image for every Python service (web, serving, worker, beat): environment parity by build.
FROM python:3.11.11-slim-bookworm

ARG TF_EXTRA=cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    MODELGATE_VAR_DIR=/data DJANGO_SETTINGS_MODULE=console.settings

WORKDIR /app
COPY pyproject.toml README.md ./
COPY accounts accounts
COPY registry registry
COPY serving serving
COPY monitoring monitoring
COPY console console
COPY templates templates
COPY static static
COPY manage.py ./
COPY deploy deploy
RUN pip install ".[${TF_EXTRA}]" \
    && DEBUG=1 SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
    && useradd --create-home --uid 1000 modelgate && mkdir -p /data && chown modelgate /data
USER modelgate
EXPOSE 8000
CMD ["granian", "--interface", "wsgi", "--host", "0.0.0.0", "--port", "8000", "--blocking-threads", "32", "console.wsgi:application"]
