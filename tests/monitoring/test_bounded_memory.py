"""What grew with traffic in the embedded shape (issue 15) stays bounded: the DEBUG query logs of
threads no web request resets (the event flush thread, predict threads, Celery tasks), and the
database connections such threads hold."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from monitoring.ingest import database_sink
from monitoring.models import PredictionLog

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(fn):
    result = {}

    def run():
        try:
            result["value"] = fn()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    return result["value"]


def test_it_forgets_the_flush_threads_queries_after_each_batch(settings, make_event):
    settings.DEBUG = True
    sink = database_sink()

    def flush_twice():
        sink([make_event(ts=time.time()) for _ in range(50)])
        sink([make_event(ts=time.time()) for _ in range(50)])
        # What stays between flushes: no logged query, no open connection with its statements.
        return len(connection.queries_log), connection.connection is None

    assert _in_thread(flush_twice) == (0, True)
    assert PredictionLog.objects.count() == 100


def test_a_predict_thread_forgets_its_queries_and_gives_its_connection_back(
    settings, deployed, predict_key
):
    import io

    from accounts.keys import clear_key_cache
    from serving.wsgi_front import ServingFront

    settings.DEBUG = True
    settings.MODELGATE_POOL_AUTOSTART = False
    front = ServingFront(lambda environ, start: [])
    body = b'{"inputs": {"features": [[0.1, 0.2, 0.3, 0.4]]}}'

    def predict():
        clear_key_cache()  # the key is loaded with a query on this thread, as after its TTL
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/api/v1/models/churn/deployments/production/predict",
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Bearer {predict_key}",
            "wsgi.input": io.BytesIO(body),
        }
        statuses = []
        front(environ, lambda status, headers: statuses.append(status))
        # Given back (to the psycopg pool in production), not held by the thread for good.
        return statuses[0], len(connection.queries_log), connection.connection is None

    assert _in_thread(predict) == ("200 OK", 0, True)


def test_it_forgets_a_celery_tasks_queries_under_debug(settings, alice):
    from celery import signals

    import console.celery  # noqa: F401 - connects the handler
    from accounts.models import ApiKey

    settings.DEBUG = True

    def task():
        list(ApiKey.objects.all())
        logged = len(connection.queries_log)
        signals.task_postrun.send(sender=None, task_id="t", task=None)
        return logged, len(connection.queries_log)

    assert _in_thread(task) == (1, 0)
