"""The composition root: settings, urls, the Celery app, the dashboard and the key portal."""

from console.celery import app as celery_app

__all__ = ["celery_app"]
