"""Modelgate settings: everything comes from the environment, safe by default.

The one registry of knobs: each is read here once, by a strict reader (console/envconfig.py: a
bad boolean or number stops start-up naming the variable), grouped by subject; code reads
`settings.X` and never the environment. README's settings table lists every variable read here
(tests/console/test_settings_registry.py compares them). `make run` and the test settings set
the development values explicitly; production must set SECRET_KEY and ALLOWED_HOSTS or start-up
refuses to run.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console.envconfig import envbool, envchoice, envfloat, envint, envlist, envsecret, envstr
from console.logging import logging_config
from console.openapi import OPENAPI_SETTINGS

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("MODELGATE_VAR_DIR", str(BASE_DIR / "var")))

# --- Django core: debug, secret, hosts ---
DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
elif not SECRET_KEY:
    # No default secret anywhere: with DEBUG on and no key, one per process (`make run` keeps a
    # stable one in var/dev.env, shared by its server and worker).
    SECRET_KEY = secrets.token_urlsafe(50)
if DEBUG and not ALLOWED_HOSTS:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "core",
    "accounts",
    "registry",
    "serving",
    "jobs",
    "monitoring",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "console.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.actors.ActorMiddleware",
    "accounts.error_pages.ServiceErrorPagesMiddleware",
    # After authentication (it sizes bodies by who sends them), before anything reads a body.
    "console.middleware.RequestSizeLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Database ---
# SQLite in the embedded default, PostgreSQL (or anything dj-database-url reads) via
# DATABASE_URL. SQLite runs in WAL mode with IMMEDIATE transactions so that the console, the
# serving threads and the embedded worker do not trip over "database is locked".
DATABASE_URL = envstr("DATABASE_URL")
# A bounded pool per PostgreSQL process: a request returns its connection when it ends, so
# threads a threaded server retires (granian: after 30 s idle) leave nothing open behind them.
# 0 = no pool, close per request (for a pooler such as PgBouncer in front of PostgreSQL).
DB_POOL_MAX = envint("MODELGATE_DB_POOL_MAX", 10, minimum=0)
DB_POOL_MIN = envint("MODELGATE_DB_POOL_MIN", 1, minimum=0)
# A request waits this long for a free connection, then fails (500), never queues without bound.
DB_POOL_TIMEOUT = envfloat("MODELGATE_DB_POOL_TIMEOUT", 10.0, minimum=0)
DB_POOL_MAX_IDLE = envfloat("MODELGATE_DB_POOL_MAX_IDLE", 300.0, minimum=0)
SQLITE_PATH = envstr("MODELGATE_SQLITE_PATH", str(VAR_DIR / "modelgate.sqlite3"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if DB_POOL_MAX > 0 and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(DB_POOL_MIN, DB_POOL_MAX),
            "max_size": DB_POOL_MAX,
            "timeout": DB_POOL_TIMEOUT,
            "max_idle": DB_POOL_MAX_IDLE,
            "max_lifetime": 3600.0,
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Redis ---
# Redis is the shared cache, rate-limit store, broker and hot-swap signal in the production shape.
REDIS_URL = envstr("REDIS_URL")
MODELGATE_CACHE_PREFIX = envstr("MODELGATE_CACHE_PREFIX", "mg")
# Embedded default only: locmem culls a third past MAX_ENTRIES. Rate limits keep 11 small
# counters per key and rate (one per bucket), so Django's 300 would drop live counters under
# load; 50,000 entries stay under ~25 MB.
LOCMEM_MAX_ENTRIES = envint("MODELGATE_LOCMEM_MAX_ENTRIES", 50_000, minimum=1)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": MODELGATE_CACHE_PREFIX,
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    # One process serves everything, so an in-process cache is shared enough.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": LOCMEM_MAX_ENTRIES},
        }
    }
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "core.api_errors.ratelimited"

# --- Celery ---
# Redis when REDIS_URL is set, otherwise kombu's SQLAlchemy transport on a SQLite file.
CELERY_BROKER_URL = envstr(
    "CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_POLLING_INTERVAL = envfloat("CELERY_BROKER_POLLING_INTERVAL", 0.5, minimum=0)
# A worker's SIGTERM finishes the running task (warm shutdown); if the worker dies instead, the
# task (acks_late, reject_on_worker_lost) is re-queued once the broker's visibility timeout
# passes (Redis only; the embedded SQLAlchemy transport passes options to create_engine).
CELERY_VISIBILITY_TIMEOUT = envint("CELERY_VISIBILITY_TIMEOUT", 2 * 3600, minimum=1)
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}

# --- Logins, sessions and cookies ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": envint("MODELGATE_PASSWORD_MIN_LENGTH", 12, minimum=1)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# `ensure_admin` (and so `make run`) gives the admin this password; unset, it prints a new one.
MODELGATE_ADMIN_PASSWORD = envsecret("MODELGATE_ADMIN_PASSWORD")
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = envbool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # no page script reads it: forms carry the token
CSRF_COOKIE_SAMESITE = "Lax"
# Password guessing (sliding windows, accounts/login_limits.py): per client address, a lockout
# per username+address, and a softer per-username limit that browsers which logged in as that
# user before are exempt from (so an attacker cannot lock an admin out).
MODELGATE_LOGIN_RATE_PER_IP = envstr("MODELGATE_LOGIN_RATE_PER_IP", "30/m")
MODELGATE_LOGIN_RATE_PER_USER_IP = envstr("MODELGATE_LOGIN_RATE_PER_USER_IP", "5/m")
MODELGATE_LOGIN_RATE_PER_USER = envstr("MODELGATE_LOGIN_RATE_PER_USER", "30/h")

# --- HTTP security headers ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# HSTS only means something over HTTPS: on by default in production, off in development.
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 86400, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# Off by default: TLS usually ends at the proxy, which redirects; serving clients must not be.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
# Scripts only from our own origin (no inline script, no eval); plotly injects <style> elements.
MODELGATE_CSP = envstr(
    "MODELGATE_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# Error pages and mails hide the Authorization header as well as Django's usual secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.reporting.SecretSafeExceptionReporterFilter"

# --- Client addresses behind proxies ---
# Login limits, audit and /metrics use the client's address: how many proxies append to
# X-Forwarded-For in front of us, and/or their networks (core/addresses.py). 0 and none:
# REMOTE_ADDR. MODELGATE_TRUST_X_FORWARDED_FOR=1 (the old switch) means one hop.
MODELGATE_TRUSTED_PROXY_HOPS = envint(
    "MODELGATE_TRUSTED_PROXY_HOPS",
    1 if envbool("MODELGATE_TRUST_X_FORWARDED_FOR", False) else 0,
    minimum=0,
)
MODELGATE_TRUSTED_PROXIES = envstr("MODELGATE_TRUSTED_PROXIES", "")

# --- Static files, uploads and the artifact store ---
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Large artifacts stream to disk in FILE_UPLOAD_TEMP_DIR, never into memory.
MODELGATE_MAX_UPLOAD_BYTES = envint("MODELGATE_MAX_UPLOAD_BYTES", 2 * 1024**3, minimum=1)
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1)
# A caller not yet logged in (or without a valid key) sends at most this: the login form and
# friends need a few hundred bytes; uploads come only after authentication.
MODELGATE_MAX_ANONYMOUS_BODY_BYTES = envint(
    "MODELGATE_MAX_ANONYMOUS_BODY_BYTES", 64 * 1024, minimum=1
)
MODELGATE_ARTIFACT_ROOT = Path(envstr("MODELGATE_ARTIFACT_ROOT", str(VAR_DIR / "artifacts")))
MODELGATE_DATASET_ROOT = Path(envstr("MODELGATE_DATASET_ROOT", str(VAR_DIR / "datasets")))
# Processes that only read the store (serving, workers) unpack SavedModels here instead, so the
# store can be mounted read-only for them; empty = `<MODELGATE_ARTIFACT_ROOT>/extracted`.
MODELGATE_ARTIFACT_EXTRACT_ROOT = envstr("MODELGATE_ARTIFACT_EXTRACT_ROOT", "")
# The most files a SavedModel archive may hold (a zip bomb of tiny files costs inodes).
MODELGATE_MAX_ARCHIVE_FILES = envint("MODELGATE_MAX_ARCHIVE_FILES", 10_000, minimum=1)

# --- REST API and API keys ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        # orjson refuses infinities and nesting deeper than 1024 with a 400, not a 500.
        "core.parsers.StrictJSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# drf-spectacular's fixed description of the API (no environment knob in it).
SPECTACULAR_SETTINGS = OPENAPI_SETTINGS
# The in-process key cache TTL bounds how long a revoked key keeps working on a replica.
MODELGATE_API_KEY_CACHE_SECONDS = envfloat("MODELGATE_API_KEY_CACHE_SECONDS", 5.0, minimum=0)
# Keys' last-used time is written by a background thread, at most once a minute per key.
MODELGATE_API_KEY_LAST_USED_ASYNC = envbool("MODELGATE_API_KEY_LAST_USED_ASYNC", True)
# Failed key lookups that cost a query (unknown prefixes, uncached keys), per client address;
# past it that address's cache misses get a 429 before the query (accounts/auth_throttle.py).
MODELGATE_AUTH_FAILURES_PER_IP = envstr("MODELGATE_AUTH_FAILURES_PER_IP", "30/m")
# A key without its own rate gets this one; a role's keys may be allowed at most its max_rate
# until an admin sets RoleLimits ("" means no ceiling).
MODELGATE_DEFAULT_RATE_LIMIT = envstr("MODELGATE_DEFAULT_RATE_LIMIT", "100000/m")
MODELGATE_ROLE_LIMITS = {
    "viewer": {"max_rate": envstr("MODELGATE_VIEWER_MAX_RATE", "1000/m")},
    "deployer": {"max_rate": envstr("MODELGATE_DEPLOYER_MAX_RATE", "10000/m")},
    "admin": {},
}

# --- Logging ---
# JSON lines with request ids for a log collector (compose and Kubernetes set it), plain text
# for a terminal. The access log (modelgate.access) costs ~10 µs a request; on with JSON.
LOG_LEVEL = envstr("LOG_LEVEL", "INFO")
MODELGATE_LOG_FORMAT = envchoice("MODELGATE_LOG_FORMAT", "plain", ("plain", "json"))
LOGGING = logging_config(fmt=MODELGATE_LOG_FORMAT, level=LOG_LEVEL)
MODELGATE_ACCESS_LOG = envbool("MODELGATE_ACCESS_LOG", MODELGATE_LOG_FORMAT == "json")

# --- Serving: model loading, replicas, limits, gRPC ---
MODELGATE_POOL_AUTOSTART = envbool("MODELGATE_POOL_AUTOSTART", True)
# How fast replicas notice a deploy/rollback (the epoch), and a full re-read regardless.
MODELGATE_EPOCH_POLL_SECONDS = envfloat("MODELGATE_EPOCH_POLL_SECONDS", 0.25, minimum=0)
MODELGATE_POOL_RESYNC_SECONDS = envfloat("MODELGATE_POOL_RESYNC_SECONDS", 30.0, minimum=0)
# XLA-compile models (serving and the validation suite's performance step).
MODELGATE_XLA = envbool("MODELGATE_XLA", True)
# A version that fails to load is retried after 1, 2, 4, ... seconds, at most this cap apart.
MODELGATE_LOAD_RETRY_BASE_SECONDS = envfloat("MODELGATE_LOAD_RETRY_BASE_SECONDS", 1.0, minimum=0)
MODELGATE_LOAD_RETRY_CAP_SECONDS = envfloat("MODELGATE_LOAD_RETRY_CAP_SECONDS", 300.0, minimum=0)
# Serving replicas report what they serve (Redis with a TTL, else files under VAR_DIR).
MODELGATE_REPLICA_REPORT_SECONDS = envfloat("MODELGATE_REPLICA_REPORT_SECONDS", 5.0, minimum=0)
MODELGATE_REPLICA_TTL_SECONDS = envfloat("MODELGATE_REPLICA_TTL_SECONDS", 20.0, minimum=0)
MODELGATE_REPLICA_DIR = Path(envstr("MODELGATE_REPLICA_DIR", str(VAR_DIR / "replicas")))
MODELGATE_REPLICA_KEY_PREFIX = envstr(
    "MODELGATE_REPLICA_KEY_PREFIX", f"{MODELGATE_CACHE_PREFIX}:replica:"
)
# How long deploy/rollback with "wait": true waits for every live replica.
MODELGATE_ROLLOUT_WAIT_SECONDS = envfloat("MODELGATE_ROLLOUT_WAIT_SECONDS", 60.0, minimum=0)
MODELGATE_MAX_PREDICT_BODY_BYTES = envint(
    "MODELGATE_MAX_PREDICT_BODY_BYTES", 64 * 1024 * 1024, minimum=1
)
# On SIGTERM a serving process waits this long for queued predictions to finish.
MODELGATE_SHUTDOWN_DRAIN_SECONDS = envfloat("MODELGATE_SHUTDOWN_DRAIN_SECONDS", 20.0, minimum=0)
# gRPC (OIP, TF Serving, grpc.health.v1) inside every serving process, on one port; 0 = off.
MODELGATE_GRPC_PORT = envint("GRPC_PORT", 8500, minimum=0, maximum=65535)
MODELGATE_GRPC_HOST = envstr("GRPC_HOST", "[::]")
MODELGATE_GRPC_THREADS = envint("MODELGATE_GRPC_THREADS", 32, minimum=1)
# With Redis, events go to a Redis stream that monitoring drains; without it (the embedded
# default) the flush thread bulk-inserts them into the database itself.
MODELGATE_EVENT_SINK = envstr(
    "MODELGATE_EVENT_SINK", "" if REDIS_URL else "monitoring.ingest.database_sink"
)
# The share of a deployment's requests logged with their payloads, for a deployment that has not
# set its own rate (serving/sampling.py; the rate a deployment sets is the one serving applies).
MODELGATE_PAYLOAD_SAMPLE_RATE = envfloat(
    "MODELGATE_PAYLOAD_SAMPLE_RATE", 0.05, minimum=0.0, maximum=1.0
)

# --- TensorFlow devices (serving/devices.py) ---
# Thread pools; unset (or 0) lets TensorFlow choose.
MODELGATE_TF_INTER_OP = envint("MODELGATE_TF_INTER_OP", None, minimum=0)
MODELGATE_TF_INTRA_OP = envint("MODELGATE_TF_INTRA_OP", None, minimum=0)
# Read by CUDA itself; named here only so a CPU fallback can say that it hides every GPU.
CUDA_VISIBLE_DEVICES = envstr("CUDA_VISIBLE_DEVICES", None)

# --- Jobs: workers, validation runs, batch jobs ---
# A worker beats this often; one silent for MODELGATE_WORKER_STALE_SECONDS is gone, and the
# sweeper marks its runs and jobs `error` (three missed beats by default).
MODELGATE_WORKER_HEARTBEAT_SECONDS = envfloat(
    "MODELGATE_WORKER_HEARTBEAT_SECONDS", 10.0, minimum=0.1
)
MODELGATE_WORKER_STALE_SECONDS = envfloat(
    "MODELGATE_WORKER_STALE_SECONDS", 3 * MODELGATE_WORKER_HEARTBEAT_SECONDS + 5, minimum=0.1
)
# Rows per model call in a batch job that does not choose its own.
MODELGATE_BATCH_JOB_BATCH_SIZE = envint("MODELGATE_BATCH_JOB_BATCH_SIZE", 4096, minimum=1)
# The image digest the services run, compared with a version's environment spec (parity check).
MODELGATE_IMAGE_DIGEST = envstr("MODELGATE_IMAGE_DIGEST", "")

# --- Monitoring: schedules, retention, quality, /metrics ---
MODELGATE_SLO_CHECK_SECONDS = envfloat("MODELGATE_SLO_CHECK_SECONDS", 30.0, minimum=1)
MODELGATE_DRAIN_SECONDS = envfloat("MODELGATE_DRAIN_SECONDS", 2.0, minimum=0.1)
MODELGATE_DRIFT_SECONDS = envfloat("MODELGATE_DRIFT_SECONDS", 900.0, minimum=1)
MODELGATE_SWEEP_SECONDS = envfloat("MODELGATE_SWEEP_SECONDS", 30.0, minimum=1)
MODELGATE_LOG_RETENTION_DAYS = envint("MODELGATE_LOG_RETENTION_DAYS", 30, minimum=0)
MODELGATE_MINUTE_ROLLUP_RETENTION_DAYS = envint(
    "MODELGATE_MINUTE_ROLLUP_RETENTION_DAYS", 30, minimum=0
)
# An alert when accuracy falls by more than this (absolute) or MAE rises by this share.
MODELGATE_QUALITY_DROP = envfloat("MODELGATE_QUALITY_DROP", 0.05, minimum=0.0)
# Who may scrape /metrics: a bearer token, and/or client networks.
MODELGATE_METRICS_TOKEN = envsecret("MODELGATE_METRICS_TOKEN")
MODELGATE_METRICS_ALLOW_IPS = envstr("MODELGATE_METRICS_ALLOW_IPS", "127.0.0.1/32,::1/128")
