"""Deploying: what `manage.py check --deploy` asks of a public site, docsync's checks included."""

import os

from .settings import *  # noqa: F403

DEBUG = False
SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]  # never the one in the repository
ALLOWED_HOSTS = ["dash.example.com"]
CSRF_TRUSTED_ORIGINS = ["https://dash.example.com"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # TLS ends at the load balancer
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Sites that embed the apps, by full origin ("*" is docsync.W101; a bare "host:port" is W104).
DOCSYNC = {**DOCSYNC, "ALLOWED_ORIGINS": ["https://blog.example.com"]}  # noqa: F405
