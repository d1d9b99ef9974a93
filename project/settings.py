"""Settings of the docsync demo site: SQLite, the in-memory channel layer, daphne.

Environment variables switch to the scale-out setup (see the README):
DOCSYNC_REDIS_URL (channels-redis layer), DATABASE_URL-like DOCSYNC_PG_* (PostgreSQL).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

# The demo's key comes from the environment; the fallback is public, for local use only.
DEMO_SECRET_KEY = "docsync-demo-insecure-key-change-me"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
if not DEBUG and SECRET_KEY == DEMO_SECRET_KEY:
    # Anyone can sign session tokens (and Django sessions) with a published key.
    raise ImproperlyConfigured(
        "DJANGO_DEBUG=0 with the demo's public SECRET_KEY: set DJANGO_SECRET_KEY to a secret of your own "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
    )
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "docsync",
    "project.catalog",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

ASGI_APPLICATION = "project.asgi.application"
WSGI_APPLICATION = None

DATABASES: dict[str, dict[str, Any]]
if os.environ.get("DOCSYNC_PG_NAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["DOCSYNC_PG_NAME"],
            "USER": os.environ.get("DOCSYNC_PG_USER", "postgres"),
            "HOST": os.environ.get("DOCSYNC_PG_HOST", "127.0.0.1"),
            "PORT": os.environ.get("DOCSYNC_PG_PORT", "5432"),
            "PASSWORD": os.environ.get("DOCSYNC_PG_PASSWORD", ""),
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("DOCSYNC_SQLITE", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }
    if os.environ.get("DOCSYNC_SQLITE_WAL"):
        # Write-ahead logging, synced at checkpoints: a commit survives the death of the
        # process (what persistence's journal needs), not a power cut; a commit costs
        # no fsync (docs/persistence.md, cost).
        DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"

if os.environ.get("DOCSYNC_REDIS_URL") and os.environ.get("DOCSYNC_CHANNEL_LAYER") == "pubsub":
    # channels-redis's pub/sub layer, for bench/relay.py's comparison only: it has no
    # capacity (a slow process's queue grows without bound) and loses what is published
    # while a process's subscription reconnects.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": os.environ["DOCSYNC_REDIS_URL"], "socket_timeout": None}]},
        }
    }
elif os.environ.get("DOCSYNC_REDIS_URL"):
    _CORE_LAYERS = {
        "core": "channels_redis.core.RedisChannelLayer",  # the stock layer
        "docsync": "docsync.server.cluster.layer.RedisChannelLayer",  # its data, fewer round trips
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _CORE_LAYERS[os.environ.get("DOCSYNC_CHANNEL_LAYER") or "docsync"],
            # redis-py 8 times reads out after 5 s by default, shorter than the blocking
            # reads channels-redis makes; no socket timeout restores the intended wait.
            "CONFIG": {
                "hosts": [{"address": os.environ["DOCSYNC_REDIS_URL"], "socket_timeout": None}],
                "capacity": 1000,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

EXAMPLES = BASE_DIR / "project" / "examples"
DOCSYNC: dict[str, Any] = {
    "APPS": {
        "sliders": "project.examples.sliders",
        "stream": "project.examples.stream",
        "table": "project.examples.table",
        "lifecycle": str(EXAMPLES / "lifecycle"),
        "board": {"app": "project.examples.board", "shared": True},
        "bench": "project.examples.bench",
        "bench_sync": "project.examples.bench_sync",
        "bench_big": "project.examples.bench_big",
        "bench_sized": "project.examples.bench_sized",
        "gallery": "project.examples.gallery",
        "glyphs": "project.examples.glyphs",
        "crossfilter": "project.examples.crossfilter",
        "stocks": "project.examples.stocks",
        "selection_histogram": "project.examples.selection_histogram",
        "movies": "project.examples.movies",
        "weather": "project.examples.weather",
        "ohlc": "project.examples.ohlc",
        "export_csv": "project.examples.export_csv",
        "histogram": "project.examples.histogram",
    },
    "UNUSED_SESSION_LIFETIME": float(os.environ.get("DOCSYNC_UNUSED_SESSION_LIFETIME", "15")),
    "CHECK_UNUSED_SESSIONS": float(os.environ.get("DOCSYNC_CHECK_UNUSED_SESSIONS", "5")),
    "ALLOWED_ORIGINS": [o for o in os.environ.get("DOCSYNC_ALLOWED_ORIGINS", "").split(",") if o],
    "CLUSTER": bool(os.environ.get("DOCSYNC_REDIS_URL")),
    "REDIS_URL": os.environ.get("DOCSYNC_REDIS_URL") or None,  # the pub/sub layer names no hosts
    # Relays on direct routes between processes (any free port on the loopback: the demo's
    # processes share one machine); DOCSYNC_PEER_ADDRESS="" relays over the channel layer.
    "PEER_ADDRESS": os.environ.get("DOCSYNC_PEER_ADDRESS", "127.0.0.1:0") or None,
    # Sessions that outlive their process (docs/persistence.md): "database" or "redis".
    "PERSISTENCE": os.environ.get("DOCSYNC_PERSISTENCE") or None,
    # A scraper's secret for /docsync-metrics (staff users may read it anyway); the benchmarks set one.
    "METRICS_TOKEN": os.environ.get("DOCSYNC_METRICS_TOKEN") or None,
}
# Numeric settings may be overridden from the environment (tests and benchmarks do).
for _key in (
    "MAX_SESSIONS",
    "MAX_FRAME_CONTAINERS",
    "MAX_FRAME_VALUES",
    "MAX_PATCHES_PER_SECOND",
    "MAX_CONNECTIONS_PER_SESSION",
    "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT",
    "MAX_SESSIONS_PER_CLIENT",
    "MAX_CONNECTIONS_PER_CLIENT",
    "NEW_SESSIONS_PER_CLIENT_BURST",
    "NEW_SESSIONS_PER_CLIENT_PER_SECOND",
    "MAX_PATCHES_PER_CLIENT_BURST",
    "MAX_PATCHES_PER_SECOND_PER_CLIENT",
    "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST",
    "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT",
    "MAX_VALUES_PER_CLIENT_BURST",
    "MAX_VALUES_PER_SECOND_PER_CLIENT",
    "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST",
    "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT",
    "ADMIN_REFRESH",
    "PROCESS_TIMEOUT",
    "SESSION_TOKEN_EXPIRATION",
    "PATCH_LOG_SIZE",
    "PATCH_LOG_BYTES",
    "MAX_UPLOAD_BYTES",
    "MAX_DOCUMENT_BYTES_PER_CLIENT",
    "MAX_MESSAGE_BYTES",
    "MAX_INCOMPLETE_BYTES",
    "MAX_INCOMPLETE_BYTES_PER_CLIENT",
    "INCOMPLETE_MESSAGE_TIMEOUT",
    "MAX_QUEUED_BYTES",
    "MAX_QUEUED_BYTES_PER_CLIENT",
    "REMEMBERED_ANSWERS",
    "REMEMBERED_CLIENTS",
    "SNAPSHOT_INTERVAL",
    "DRAIN_TIMEOUT",
    "MAX_ARRAY_ELEMENTS",
    "MAX_COLUMN_BYTES",
    "SYNC_CALLBACK_THREADS",
):
    _value = os.environ.get(f"DOCSYNC_{_key}") or (
        os.environ.get("DOCSYNC_MAX_PATCHES") if _key == "MAX_PATCHES_PER_SECOND" else None
    )
    if _value and _value.lower() == "none":  # a limit turned off (the per-client ones)
        DOCSYNC[_key] = None
    elif _value:
        DOCSYNC[_key] = float(_value) if "." in _value else int(_value)

AUTH_PASSWORD_VALIDATORS: list[dict[str, str]] = []
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"docsync": {"handlers": ["console"], "level": os.environ.get("DOCSYNC_LOG_LEVEL", "INFO")}},
}
