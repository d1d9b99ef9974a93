"""The how-to guides' example site: each guide's settings are marked by its name."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "howto-example-only-not-a-secret")
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "channels",
    "docsync",
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
ROOT_URLCONF = "howto_site.urls"
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
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ.get("HOWTO_DB", "db.sqlite3")}}
USE_TZ = True
ASGI_APPLICATION = "howto_site.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LOGIN_URL = "/admin/login/"

DOCSYNC = {
    "APPS": {
        # embedding: an app a template shows
        "greeting": "howto_site.apps.greeting",
        # access rules
        "staff_report": {"app": "howto_site.apps.greeting", "access": "staff"},
        "beta": {"app": "howto_site.apps.greeting", "access": "callable:howto_site.rules.beta_testers"},
        # shared sessions: one session per ?room=, everyone in it sees the same document
        "whiteboard": {"app": "howto_site.apps.whiteboard", "shared": True},
        # streaming
        "ticker": "howto_site.apps.ticker",
        # uploads
        "csv_rows": "howto_site.apps.csv_rows",
        # migrating from bokeh serve: the same script, run by Bokeh's own handler, for BokehJS
        "wave": {"app": str(BASE_DIR / "bokeh_apps" / "wave.py"), "kind": "bokeh"},
        # migrating from bokeh-django: the autoload route's handler function
        "shapes": {"app": "howto_site.bokeh_apps.shapes:modify_doc", "kind": "bokeh", "access": "login_required"},
        # migrating from Panel: the app ported to docsync's models
        "sine": "howto_site.apps.sine",
    },
    # embedding from another site: its origin, as in CSRF_TRUSTED_ORIGINS
    "ALLOWED_ORIGINS": ["https://blog.example.com"],
}
