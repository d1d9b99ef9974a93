"""System checks of the site around docsync: its ASGI routing, its URLs and its login page.

Each mistake passes Django's own checks: an ``asgi.py`` left as ``startproject`` wrote
it refuses every websocket (the app's page never goes live), a ``urls.py`` without
``include("docsync.urls")`` serves no app at all (every page a 404), and a login rule
sends anonymous visitors to a ``LOGIN_URL`` that a new project does not serve (a 404).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import checks
from django.core.handlers.asgi import ASGIHandler
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.utils.module_loading import import_string

from .conf import docsync_settings
from .server.admission.access import check_access
from .server.app_loader import app_specs

__all__ = ["check_site"]

_ROUTING_HINT = (
    "Route 'websocket' to docsync in that module: application = ProtocolTypeRouter({'http': "
    "django_asgi_app, 'websocket': WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)), "
    "'lifespan': LifespanApp()}), as the README's mysite/asgi.py does."
)


@checks.register()
def check_site(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Check that ASGI_APPLICATION routes websockets, the apps have URLs, and LOGIN_URL is served where needed."""
    return _routing_errors() + _url_warnings() + _login_warnings()


def _routing_errors() -> list[checks.CheckMessage]:
    path = getattr(settings, "ASGI_APPLICATION", None)
    if not path or not isinstance(path, str):
        return []  # docsync.E002 says so
    try:
        application = import_string(path)
    except Exception as exc:  # runserver, daphne and uvicorn would fail the same way
        return [
            checks.Error(
                f"ASGI_APPLICATION {path!r} cannot be imported: {type(exc).__name__}: {exc}",
                hint="Set ASGI_APPLICATION to the dotted path of the application in your asgi.py.",
                id="docsync.E024",
            )
        ]
    if isinstance(application, ASGIHandler):
        what = "is Django's own ASGI handler, which serves HTTP only"
    else:
        mapping = getattr(application, "application_mapping", None)  # Channels' ProtocolTypeRouter
        if not isinstance(mapping, dict) or "websocket" in mapping:
            return []
        what = "routes no 'websocket'"
    return [
        checks.Error(
            f"ASGI_APPLICATION {path!r} {what}: docsync's pages load but their websockets are refused "
            "(each app's page says reconnecting… for over a minute, then disconnected).",
            hint=_ROUTING_HINT,
            id="docsync.E024",
        )
    ]


def _url_warnings() -> list[checks.CheckMessage]:
    # Forgetting the README's urls.py step passed every check: each app's page was a 404.
    if not docsync_settings().APPS:
        return []
    try:
        reverse("docsync:index")
    except NoReverseMatch:
        pass
    except Exception:  # a broken URLconf: Django's own checks report it
        return []
    else:
        return []
    return [
        checks.Warning(
            "No URL pattern of ROOT_URLCONF includes docsync.urls: the apps of DOCSYNC['APPS'] are served nowhere "
            "(each app's page, its index and docsync's JavaScript are 404s).",
            hint="Add path('dash/', include('docsync.urls')) to your urls.py, as the README's mysite/urls.py does "
            "(the apps are then at /dash/<app>/).",
            id="docsync.W011",
        )
    ]


def _login_warnings() -> list[checks.CheckMessage]:
    config = docsync_settings()
    anonymous = AnonymousUser()
    refused = []
    for spec in app_specs(config.APPS):
        rule = spec.access if spec.access is not None else config.ACCESS
        if callable(rule) or (isinstance(rule, str) and rule.startswith("callable:")):
            continue  # the site's own code decides: not run by a check
        try:
            if not check_access(rule, anonymous, spec.path):
                refused.append(spec.path)
        except ValueError:
            continue  # an unknown rule: docsync.E006
    if not refused:
        return []
    login_url = str(settings.LOGIN_URL)
    if _served(settings.LOGIN_URL):
        return []
    names = ", ".join(repr(path) for path in refused)
    return [
        checks.Warning(
            f"docsync app{'s' if len(refused) > 1 else ''} {names} send{'' if len(refused) > 1 else 's'} anonymous "
            f"visitors to LOGIN_URL ({login_url!r}), which no URL pattern of ROOT_URLCONF serves: they would land on "
            "a 404.",
            hint="Add path('accounts/', include('django.contrib.auth.urls')) to your urls.py (with a "
            "registration/login.html template), or set LOGIN_URL to your login page ('/admin/login/' admits "
            "staff users only).",
            id="docsync.W009",
        )
    ]


def _served(login_url: Any) -> bool:
    """Tell whether ``login_url`` (a path, a URL name or a URL) is served, or not this site's to judge."""
    try:
        target = str(resolve_url(login_url))
    except NoReverseMatch:
        return False  # a URL name no pattern has
    if "://" in target or target.startswith("//"):
        return True  # a login page on another host
    path = target.split("?", 1)[0]
    prefix = (getattr(settings, "FORCE_SCRIPT_NAME", None) or "").rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    try:
        resolve(path)
    except Resolver404:
        return False
    except Exception:  # a broken URLconf: Django's own checks report it
        return True
    return True
