"""All configuration comes from the environment; see `.env.example`.

With nothing set, Concordance runs on the embedded default: SQLite in `var/`
and a Celery broker on kombu's filesystem transport in `var/broker/`, which
works across processes, so `python manage.py serve` needs no server. DEBUG is
off unless `DJANGO_DEBUG=1`; the secret key is `DJANGO_SECRET_KEY`, or on the
embedded SQLite default one made once and kept in `var/secret_key`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.secret_key import embedded_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONCORDANCE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; unset or empty means `default`, anything unrecognised is an error."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TRUE | FALSE:
        raise ImproperlyConfigured(f"{name}={os.environ[name]!r}: use 1 or 0")
    return value in TRUE


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None


# Django's debug pages show settings, source code and the request to anyone who
# triggers an error: on only where someone asks for it.
DEBUG = env_bool("DJANGO_DEBUG", False)

ALLOWED_HOSTS = [h for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# HTTPS, for a site served over it (`.env.example` lists what `check --deploy` wants).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container healthcheck asks over plain HTTP
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("DJANGO_CSRF_COOKIE_SECURE", False)
# Behind a proxy that terminates HTTPS: the header it sets and its value, "HTTP_X_FORWARDED_PROTO,https".
# Set it only when the proxy always sets (or strips) that header, or clients could claim HTTPS.
if proxy_header := os.environ.get("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip():
    header, _, header_value = (part.strip() for part in proxy_header.partition(","))
    if not header.startswith("HTTP_") or not header_value:
        raise ImproperlyConfigured(
            f"DJANGO_SECURE_PROXY_SSL_HEADER={proxy_header!r}: expected HEADER,value "
            "with the header as Django names it, e.g. HTTP_X_FORWARDED_PROTO,https"
        )
    SECURE_PROXY_SSL_HEADER = (header, header_value)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "studyapp",
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
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'concordance.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker) share the file: wait for locks instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg prepares nothing while this is None (Django's default). ORM queries
    # bind parameters on the client and are never prepared either way; the hot
    # hand-written statements (`studyapp.db.rows.prepared_cursor`) are, once
    # per connection, which saves PostgreSQL 1 to 2 ms of planning per call.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        # Several machines may serve a site on a database server; each would make its
        # own key, and sessions and forms signed on one would fail on the others.
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DATABASE_URL names a database server: every "
            "machine that serves the site needs the same key (a key is made and kept in "
            "CONCORDANCE_VAR_DIR only on the embedded SQLite default)"
        )
    SECRET_KEY = embedded_secret_key(VAR_DIR / "secret_key")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# `collectstatic` copies the files here, under content-hashed names listed in a
# manifest; whitenoise serves them. Without DEBUG a page whose file is missing
# from the manifest fails to render, and `check --deploy` says to collect.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"

# --- Celery -----------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
# "localhost" only to spare kombu's "No hostname was supplied" warning: the folder is the broker
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
elif CELERY_BROKER_URL.startswith("redis"):
    # Redis delivers a task whose worker died unacknowledged again after this many seconds;
    # the leases (below) have queued its unfinished work long before, so that later
    # delivery finds nothing to do. It stays the backstop for work outside the leases.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A worker process renews its heartbeat this often; one on another machine that has not
# for WORKER_LOST_AFTER_SECONDS is lost, and its unfinished work is queued again (one on
# this machine is known lost as soon as its process is gone). Work whose worker died
# TASK_MAX_ATTEMPTS times is not started again. See studyapp/services/workers.py.
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("CONCORDANCE_WORKER_HEARTBEAT_SECONDS", "5"))
WORKER_LOST_AFTER_SECONDS = float(os.environ.get("CONCORDANCE_WORKER_LOST_AFTER_SECONDS", "30"))
TASK_MAX_ATTEMPTS = int(os.environ.get("CONCORDANCE_TASK_MAX_ATTEMPTS", "2"))
CELERY_BEAT_SCHEDULE = {
    # batch-mode judge runs: fetch the results of finished provider batches
    "judge-batches-collect": {
        "task": "studyapp.tasks.judge_batches_collect",
        "schedule": float(os.environ.get("CONCORDANCE_JUDGE_BATCH_POLL_SECONDS", "60")),
    },
    # queue again the work of worker processes that are gone (every worker also does at start)
    "workers-recover": {
        "task": "studyapp.tasks.workers_recover",
        "schedule": float(os.environ.get("CONCORDANCE_WORKER_RECOVER_SECONDS", "15")),
    },
}

# --- Project ----------------------------------------------------------------
# The dashboard's live estimates (studyapp/services/live.py): a refresh is queued this many
# seconds after the first annotation that finds none pending (later ones join it), built
# with this many bootstrap resamples; a refresh queued this long ago that no worker has
# taken (its message lost) is queued again by the recovery.
LIVE_DEBOUNCE_SECONDS = float(os.environ.get("CONCORDANCE_LIVE_DEBOUNCE_SECONDS", "10"))
LIVE_RESAMPLES = int(os.environ.get("CONCORDANCE_LIVE_RESAMPLES", "200"))
LIVE_STALE_SECONDS = float(os.environ.get("CONCORDANCE_LIVE_STALE_SECONDS", "600"))

# AI judge runs (docs/judges.md). Prices in US dollars per million tokens, by model;
# `batch_discount` is the fraction paid through the Batch API. Check your provider's
# current prices; CONCORDANCE_JUDGE_PRICES (JSON, same shape) replaces this table.
JUDGE_PRICES: dict[str, dict[str, float]] = json.loads(
    os.environ.get("CONCORDANCE_JUDGE_PRICES", "null")
) or {
    "gpt-4o": {"input": 2.50, "output": 10.00, "batch_discount": 0.5},
    "gpt-4o-mini": {"input": 0.15, "output": 0.60, "batch_discount": 0.5},
    "gpt-4.1": {"input": 2.00, "output": 8.00, "batch_discount": 0.5},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60, "batch_discount": 0.5},
}
# Items per Celery task; the critic judges a chunk's items concurrently, and a
# chunk holds at least JUDGE_CHUNK_ROUNDS x the critic's concurrency items.
JUDGE_CHUNK_SIZE = int(os.environ.get("CONCORDANCE_JUDGE_CHUNK_SIZE", "100"))
JUDGE_CHUNK_ROUNDS = int(os.environ.get("CONCORDANCE_JUDGE_CHUNK_ROUNDS", "4"))
# Redis for the critic's shared rate limit and response cache (when its config names none).
JUDGE_REDIS_URL = os.environ.get("CONCORDANCE_JUDGE_REDIS_URL") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None
)
# Rows a rater's queue grows by at a time: the first claim makes this many, not one per item.
ASSIGNMENT_QUEUE_CHUNK = int(os.environ.get("CONCORDANCE_ASSIGNMENT_QUEUE_CHUNK", "50"))
# When every slot a rater could take is held by others' claims, `next` says "wait" and when to
# ask again: the soonest claim timeout, at most this many seconds (a holder may skip sooner).
ASSIGNMENT_RETRY_AFTER = int(os.environ.get("CONCORDANCE_ASSIGNMENT_RETRY_AFTER", "30"))
# A saved draft (the item page's state) is at most this many bytes of JSON.
ASSIGNMENT_DRAFT_MAX_BYTES = int(os.environ.get("CONCORDANCE_ASSIGNMENT_DRAFT_MAX_BYTES", str(1024 * 1024)))
# Rate limits (studyapp/ratelimits.py): "N/SECONDS" or "off". Failed logins (the form, the
# admin, HTTP Basic on the API) per client address and per username; new participant accounts
# (a participant link's Start) per client address. Counted in Redis when one is configured
# (CONCORDANCE_RATELIMIT_REDIS_URL, else the critic's or Celery's), in the database otherwise.
RATE_LIMITS = {
    "login_ip": os.environ.get("CONCORDANCE_RATE_LOGIN_IP", "20/600"),
    "login_user": os.environ.get("CONCORDANCE_RATE_LOGIN_USER", "10/600"),
    "participant_ip": os.environ.get("CONCORDANCE_RATE_PARTICIPANT_IP", "20/600"),
}
RATELIMIT_REDIS_URL = os.environ.get("CONCORDANCE_RATELIMIT_REDIS_URL") or JUDGE_REDIS_URL
# Reverse proxies in front of the web server that append the client to X-Forwarded-For (0: none,
# the client is REMOTE_ADDR). Set it only when such proxies are there: the header is forgeable.
RATELIMIT_TRUSTED_PROXIES = int(os.environ.get("CONCORDANCE_RATELIMIT_TRUSTED_PROXIES", "0"))
# Where `load_study` resolves relative source paths when a spec is given as text.
CONCORDANCE_DATA_ROOT = Path(os.environ.get("CONCORDANCE_DATA_ROOT", BASE_DIR))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        "studyapp.api.authentication.RateLimitedBasicAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "studyapp.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "studyapp.api.parsers.StrictJSONParser",
        "studyapp.api.parsers.BoundedFormParser",
        "studyapp.api.parsers.BoundedMultiPartParser",
    ],
}
# Every API body (studyapp/api/json_body.py): at most this many bytes (413 beyond), JSON nested at
# most this deep (the pages' drafts nest 4 deep); NUL and lone surrogates refused (400).
API_MAX_BODY_BYTES = int(os.environ.get("CONCORDANCE_API_MAX_BODY_BYTES", str(2 * 1024 * 1024)))
API_MAX_JSON_DEPTH = int(os.environ.get("CONCORDANCE_API_MAX_JSON_DEPTH", "32"))
SPECTACULAR_SETTINGS = {
    "TITLE": "Concordance API",
    "DESCRIPTION": "Annotator actions for concordance studies.",
    "VERSION": "0.1.0",
    # Swagger UI served from our own static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
