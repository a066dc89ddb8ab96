"""Modelgate settings: everything comes from the environment, safe by default.

`make run` and the test settings set the development values explicitly; production must set
SECRET_KEY and ALLOWED_HOSTS or start-up refuses to run.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from console.envconfig import envbool, envfloat, envint, envlist, envsecret, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("MODELGATE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
SECRET_KEY = envsecret("SECRET_KEY")
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS")
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")
elif not SECRET_KEY:
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105
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
    "accounts",
    "registry",
    "serving",
    "monitoring",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

# Database: SQLite in the embedded default, PostgreSQL (or anything dj-database-url reads) via
# DATABASE_URL. SQLite runs in WAL mode with IMMEDIATE transactions so that the console, the
# serving threads and the embedded worker do not trip over "database is locked".
DATABASE_URL = envstr("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": envstr("MODELGATE_SQLITE_PATH", str(VAR_DIR / "modelgate.sqlite3")),
            "OPTIONS": {
                "timeout": 30,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis is the shared cache, rate-limit store, broker and hot-swap signal in the production shape.
REDIS_URL = envstr("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": envstr("MODELGATE_CACHE_PREFIX", "mg"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
else:
    # Embedded default: one process serves everything, so an in-process cache is shared enough.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "accounts.api_errors.ratelimited"

# Celery: Redis when REDIS_URL is set, otherwise kombu's SQLAlchemy transport on a SQLite file.
CELERY_BROKER_URL = envstr(
    "CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BROKER_POLLING_INTERVAL = envfloat("CELERY_BROKER_POLLING_INTERVAL", 0.5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

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

# Uploads: large artifacts stream to disk in FILE_UPLOAD_TEMP_DIR, never into memory.
MODELGATE_MAX_UPLOAD_BYTES = envint("MODELGATE_MAX_UPLOAD_BYTES", 2 * 1024**3)
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "uploads")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024)
MODELGATE_ARTIFACT_ROOT = Path(envstr("MODELGATE_ARTIFACT_ROOT", str(VAR_DIR / "artifacts")))
MODELGATE_DATASET_ROOT = Path(envstr("MODELGATE_DATASET_ROOT", str(VAR_DIR / "datasets")))

# API keys: the in-process cache TTL bounds how long a revoked key keeps working on a replica.
MODELGATE_API_KEY_CACHE_SECONDS = envfloat("MODELGATE_API_KEY_CACHE_SECONDS", 5.0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "accounts.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Modelgate API",
    "DESCRIPTION": "Register, validate, deploy, serve and monitor TensorFlow/Keras models.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.server": {"level": "WARNING"}},
}

# Serving: how fast replicas notice a deploy/rollback, batching defaults, request limits.
MODELGATE_EPOCH_POLL_SECONDS = envfloat("MODELGATE_EPOCH_POLL_SECONDS", 0.25)
MODELGATE_POOL_RESYNC_SECONDS = envfloat("MODELGATE_POOL_RESYNC_SECONDS", 30.0)
MODELGATE_POOL_AUTOSTART = envbool("MODELGATE_POOL_AUTOSTART", True)
MODELGATE_XLA = envbool("MODELGATE_XLA", True)
MODELGATE_MAX_PREDICT_BODY_BYTES = envint("MODELGATE_MAX_PREDICT_BODY_BYTES", 64 * 1024 * 1024)
MODELGATE_DEFAULT_RATE_LIMIT = envstr("MODELGATE_DEFAULT_RATE_LIMIT", "100000/m")
MODELGATE_PAYLOAD_SAMPLE_RATE = envfloat("MODELGATE_PAYLOAD_SAMPLE_RATE", 0.05)
MODELGATE_EVENT_SINK = envstr("MODELGATE_EVENT_SINK", "")
# Keys' last-used time is written by a background thread, at most once a minute per key.
MODELGATE_API_KEY_LAST_USED_ASYNC = envbool("MODELGATE_API_KEY_LAST_USED_ASYNC", True)
# Only behind a proxy you trust: take the client IP for the audit log from X-Forwarded-For.
MODELGATE_TRUST_X_FORWARDED_FOR = envbool("MODELGATE_TRUST_X_FORWARDED_FOR", False)
