"""Settings of the Celery worker the tests start: the real ones, minus a Redis-only
`visibility_timeout`, which kombu's SQLAlchemy transport passes to create_engine and dies on."""

from console.settings import *  # noqa: F403

_options = globals().get("CELERY_BROKER_TRANSPORT_OPTIONS") or {}
if str(CELERY_BROKER_URL).startswith("sqla+"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        k: v for k, v in _options.items() if k != "visibility_timeout"
    }
