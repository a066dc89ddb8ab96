"""Settings for the test suite: development values, set explicitly, on top of the real settings."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
# Never read a developer's var/dev.env, here or in the servers and workers tests start.
os.environ["MODELGATE_DEV_ENV"] = ""
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("MODELGATE_VAR_DIR", tempfile.mkdtemp(prefix="modelgate-test-"))

from console.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Tests drive the serving pool explicitly (pool.refresh()), not from a background thread.
MODELGATE_POOL_AUTOSTART = False
MODELGATE_PAYLOAD_SAMPLE_RATE = 1.0
# A per-run cache prefix; server processes started by tests get the same one through the env.
os.environ.setdefault("MODELGATE_CACHE_PREFIX", f"mgtest{os.getpid()}")
MODELGATE_CACHE_PREFIX = os.environ["MODELGATE_CACHE_PREFIX"]
CACHES["default"]["KEY_PREFIX"] = MODELGATE_CACHE_PREFIX  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not :memory:, so that server processes started by live tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
else:
    # The test process keeps one connection per thread, as before the pool: its helper threads
    # end without handing connections back. Servers that live tests start run the real pool.
    DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405
    if os.environ.get("MODELGATE_TEST_DB_NAME"):
        # Lets two suites share one PostgreSQL server without dropping each other's test database.
        DATABASES["default"]["TEST"] = {"NAME": os.environ["MODELGATE_TEST_DB_NAME"]}  # noqa: F405
# Write keys' last-used time after the response, in the test's own database connection.
MODELGATE_API_KEY_LAST_USED_ASYNC = False
# Events stay in memory unless a test wires a sink; no background thread writes the test DB.
MODELGATE_EVENT_SINK = "serving.events.MemorySink"
