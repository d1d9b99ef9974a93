"""HTTP views: the index of apps, each app's page, metadata, autoload.js, static files."""

from __future__ import annotations

import functools
import hashlib
import logging
import mimetypes
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.contrib.auth.views import redirect_to_login
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseBase,
    HttpResponseForbidden,
    JsonResponse,
)
from django.shortcuts import render
from django.template import Context, Engine
from django.template import loader as template_loader
from django.template.base import Template as DjangoTemplate
from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse
from django.utils.cache import add_never_cache_headers, get_conditional_response, patch_vary_headers
from django.utils.crypto import salted_hmac
from django.utils.html import json_script
from django.utils.http import http_date
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_safe

from .conf import docsync_settings
from .document.registry import model_class, registered_names
from .embed import RESERVED_ARGUMENTS
from .limits import client_receiver_limits, client_send_limits
from .origins import origin_listed, page_origin, page_origin_allowed
from .server.admission import may_join, may_join_elsewhere, may_join_stored
from .server.admission.access import check_access
from .server.admission.request_info import oversized_arguments, request_info
from .server.admission.tokens import generate_session_id, issue_token
from .server.admission.visitors import page_visitor, remember_visitor
from .server.cluster import ensure_cluster
from .server.dialects import DOCSYNC_KIND, get_dialect
from .server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .server.metrics import render_metrics
from .server.registry import get_registry
from .static_files import safe_file

__all__ = [
    "app_metadata",
    "app_page",
    "app_static",
    "autoload_js",
    "client_module",
    "dialect_static",
    "index",
    "metrics",
    "view_module_url",
    "view_modules",
]

logger = logging.getLogger("docsync.server")
CLIENT_DIR = Path(__file__).parent / "static" / "docsync"
#: The client's version segment (``v-<hash>``) and when it was made: outside DEBUG made
#: once (the files never change then); under DEBUG made again after a second.
_client_version: tuple[str, float] | None = None


def client_version() -> str:
    """Return ``v-<hash>`` of the client's files: the URL segment under which they may be kept for good.

    Outside DEBUG a hash of their contents, made once (processes of one release agree);
    under DEBUG one of their sizes and times, at most a second old (about 5 ms a walk), so
    that an edited module gets a new URL without a restart.
    """
    global _client_version
    debug = bool(django_settings.DEBUG)
    if _client_version is not None and (not debug or time.monotonic() - _client_version[1] < 1.0):
        return _client_version[0]
    digest = hashlib.sha256()
    for file in sorted(CLIENT_DIR.rglob("*")):
        if not file.is_file():
            continue
        digest.update(str(file.relative_to(CLIENT_DIR)).encode() + b"\0")
        if debug:
            stat = file.stat()
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
        else:
            digest.update(file.read_bytes())
    version = f"v-{digest.hexdigest()[:16]}"
    _client_version = (version, time.monotonic())
    return version


def _import_map(client_base: str) -> str:
    """The page's import map: docsync's client URLs to their versioned ones, which browsers keep for good.

    Every import of ``<root>docsync-client/...`` (docsync's own, relative, and a custom
    view's absolute one alike) goes to ``<root>docsync-client/<version>/...``, so a page
    holds one copy of each module; the longer, versioned prefix maps to itself.
    """
    return _import_map_of(client_base, client_version())


@functools.lru_cache(maxsize=64)
def _import_map_of(client_base: str, version: str) -> str:
    versioned = f"{client_base}{version}/"
    text = _CONFIG_ENCODER.encode({"imports": {client_base: versioned, versioned: versioned}})
    return mark_safe(f'<script type="importmap">{text.translate(_SCRIPT_ESCAPES)}</script>')


def _rule(app_path: str) -> Any:
    spec = get_registry().specs()[app_path]
    return spec.access if spec.access is not None else docsync_settings().ACCESS


def _context_or_404(app_path: str) -> Any:
    context = get_registry().get_context(app_path)
    if context is None:
        raise Http404(f"no docsync application at {app_path!r}")
    return context


def _denied(request: HttpRequest, app_path: str, page: bool = False) -> HttpResponse | None:
    """None if the visitor may open the app; else the login redirect, or a 403 (a page of its own for ``page``)."""
    if check_access(_rule(app_path), request.user, app_path):
        return None
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not page:
        return HttpResponseForbidden("you do not have access to this application")
    # A signed-in user the rule refuses read one unstyled line, with no way on.
    context = {
        "app": app_path,
        "username": request.user.get_username(),
        "login_url": redirect_to_login(request.get_full_path()).url,
        "index_url": reverse("docsync:index"),
    }
    return render(request, "docsync/denied.html", context, status=403)


def _user_id(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def _session_id(
    request: HttpRequest, app_path: str, context: Any, visitor: tuple[str | None, bool] | None = None
) -> str:
    """The session a page opens: its room's, a live one ``?session_id=`` names that it may join, or a new one.

    ``visitor``: ``page_visitor(request, context)``, when the caller has it already.
    """
    application = context.application
    if application.shared or context.options.get("shared"):
        # One session per room: an unguessable id derived from the room's name.
        room = request.GET.get("room", "default")[:100]
        return salted_hmac("docsync.room", f"{app_path}/{room}").hexdigest()[:32]
    joining = request.GET.get("session_id", "") if _has_query(request) else ""
    if not joining or not context.options.get("allow_join", True):
        return generate_session_id()
    session = context.get_session(joining)
    # Another user's session is not joined (unless the app is shareable): the page gets
    # a new session, and learns nothing of the other one. Anonymous, another browser's
    # is another visitor's (visitors.py).
    found = visitor if visitor is not None else page_visitor(request, context)
    if session is not None:
        joined = may_join(session, getattr(request, "user", None), context, found[0])
        return joining if joined else generate_session_id()
    # Not held here: in a cluster another process may hold it (the directory says whose
    # it is; its websocket is relayed there), or its process died or drained: the store
    # says whose it is, and its websocket restores it as a resume's would. A fresh visitor
    # has shown no id of its own, so it owns no session.
    owner_visitor = None if found[1] else found[0]
    in_cluster = docsync_settings().CLUSTER and len(joining) <= _MAX_SESSION_ID
    if in_cluster and async_to_sync(_may_join_elsewhere)(context, joining, _user_id(request), owner_visitor):
        return joining
    stored = docsync_settings().PERSISTENCE is not None and len(joining) <= _MAX_SESSION_ID
    if stored and async_to_sync(may_join_stored)(get_registry(), context, joining, _user_id(request), owner_visitor):
        return joining
    return generate_session_id()


async def _may_join_elsewhere(context: Any, session_id: str, user_id: str | None, visitor: str | None) -> bool:
    """In a cluster (joined here first, as a websocket would): may the page join a session another process holds."""
    registry = get_registry()
    try:
        await ensure_cluster(registry)
    except Exception as exc:
        logger.warning("%s: cluster unavailable for a page naming session %s: %s", context.path, session_id, exc)
        return False
    return await may_join_elsewhere(registry, context, session_id, user_id, visitor)


#: Session ids are 32 characters (``token_urlsafe(24)``, rooms' digests): a longer one names none.
_MAX_SESSION_ID = 64


def _has_query(request: HttpRequest) -> bool:
    """Whether ``request.GET`` may hold anything: a page without a query string reads no QueryDict made for it.

    Made on first use from ``QUERY_STRING`` (a QueryDict and its parse: ~17 Python calls);
    one made already (or set by a middleware) is read as it is.
    """
    return "GET" in request.__dict__ or bool(request.META.get("QUERY_STRING"))


def _arguments(request: HttpRequest, reserved: frozenset[str]) -> dict[str, list[str]]:
    if not _has_query(request):
        return {}
    names = [key for key in request.GET if key not in reserved]
    return {key: request.GET.getlist(key)[:20] for key in names[:50]}


#: (URL resolver, script prefix, language, app) -> the app page's path; bounded (apps and prefixes are few).
_PAGE_PATHS: dict[tuple[Any, str, str | None, str], str] = {}
_MAX_PAGE_PATHS = 256


def _page_path(app_path: str) -> str:
    """``reverse("docsync:app", args=[app_path])``, reversed once per URLconf, script prefix and language.

    Those are all a reverse without ``current_app`` depends on: ``clear_url_caches`` (a
    changed ROOT_URLCONF) makes a new resolver, a request's ``urlconf`` names another,
    and a translated pattern reverses per language.
    """
    key = (get_resolver(get_urlconf()), get_script_prefix(), get_language(), app_path)
    path = _PAGE_PATHS.get(key)
    if path is None:
        if len(_PAGE_PATHS) >= _MAX_PAGE_PATHS:
            _PAGE_PATHS.clear()
        path = _PAGE_PATHS[key] = reverse("docsync:app", args=[app_path])
    return path


def _app_urls(request: HttpRequest, app_path: str) -> dict[str, str]:
    """The absolute URLs a page hands its client, from one ``reverse`` (a page's largest cost after its template).

    docsync's own routes (urls.py) put them beside the app's page, under whatever prefix
    the site mounts them at: ``<root><app>/``, ``<root><app>/ws``, ``<root><app>/views.json``
    and ``<root>docsync-client/``.
    """
    page = request.build_absolute_uri(_page_path(app_path))
    root = page.removesuffix(f"{app_path}/")
    return {
        "page": page,
        "ws": ("wss" if request.is_secure() else "ws") + page[page.index(":") :] + "ws",
        "views": f"{page}views.json",
        "client": f"{root}docsync-client/",
    }


def view_module_url(request: HttpRequest, cls: type) -> str | None:
    """Return the absolute URL of the JavaScript view module model class ``cls`` names, if any.

    A relative ``__view_module__`` is a path beside docsync's own client modules, so that
    it is found under whatever prefix docsync's URLs are mounted at.
    """
    url = getattr(cls, "__view_module__", None)
    if not url:
        return None
    if "://" not in url and not url.startswith("/"):
        url = reverse("docsync:client-module", args=[url])
    # Absolute, so that a page on another origin imports it from this server.
    return request.build_absolute_uri(url)


def _client_config(
    request: HttpRequest, app_path: str, context: Any, reserved: frozenset[str] = frozenset()
) -> dict[str, Any]:
    visitor, fresh = page_visitor(request, context)
    session_id = _session_id(request, app_path, context, (visitor, fresh))
    arguments = _arguments(request, reserved)
    urls = _app_urls(request, app_path)
    token = issue_token(
        session_id,
        app_path,
        _user_id(request),
        arguments,
        request_info=request_info(request, arguments),
        visitor=visitor,
        visitor_fresh=fresh,
    )
    return {
        "app": app_path,
        "sessionId": session_id,
        "token": token,
        "wsUrl": urls["ws"],
        "clientBase": urls["client"],
        "shared": bool(context.application.shared or context.options.get("shared")),
        # Asked for the custom models the document turns out to hold (see view_modules).
        "viewModulesUrl": urls["views"],
        # FileInputs refuse a larger upload before reading it (the server checks again).
        "maxUploadBytes": docsync_settings().MAX_UPLOAD_BYTES,
        "uploadChunkBytes": min(512 * 1024, docsync_settings().MAX_FRAME_BYTES // 2),
        "theme": context.options.get("theme", docsync_settings().THEME),
        # The client accepts what the server may send: the server's own wire limits; and
        # sends nothing the server would refuse (and close the connection for).
        "connection": {"receiverLimits": client_receiver_limits(), "sendLimits": client_send_limits()},
    }


def _error_page(request: HttpRequest, context: Any) -> HttpResponse:
    application = context.application
    logger.error("docsync app %s failed: %s", context.path, application.error_detail)
    detail = application.error_detail if django_settings.DEBUG else None
    page = render(
        request,
        "docsync/app_error.html",
        {"app": context.path, "error": application.error, "detail": detail},
        status=500,
    )
    return page


def _may_open(request: HttpRequest, app_path: str) -> bool:
    try:
        return check_access(_rule(app_path), request.user, app_path)
    except Exception:  # a failing rule denies, as it does for the websocket
        logger.exception("access rule of %s failed", app_path)
        return False


def _about(app_path: str) -> str:
    """One line on what the app is (its description), without a name in front of it."""
    context = get_registry().get_context(app_path)
    application = getattr(context, "application", None)
    if getattr(application, "failed", False):
        return "(its code failed to load: the page shows why)"
    about = getattr(application, "description", None) or ""
    # Module docstrings often open with the module's name ("sliders: four sliders ..."):
    # beside the link that name is said already.
    about = re.sub(r"^[a-z][a-z0-9_]*: ", "", about)
    return about[:1].upper() + about[1:]


_OWN_TEMPLATES = Path(__file__).parent / "templates" / "docsync"
_OWN_APP_HTML = str(_OWN_TEMPLATES / "app.html")
_OWN_BASE_HTML = str(_OWN_TEMPLATES / "base.html")
#: Context processors that only add values (lazily) to a template's context: a page that
#: does not name those values renders the same without them, and nothing else happens.
_PURE_PROCESSOR_MODULES = frozenset(
    {
        "django.template.context_processors",
        "django.contrib.auth.context_processors",
        "django.contrib.messages.context_processors",
    }
)
#: (docsync/app.html as compiled, app, title, client base) -> the page's text before and
#: after its configuration script; bounded (apps and hosts a site serves are few).
_PAGE_PARTS: dict[tuple[Any, str, str, str, str | None], tuple[str, str]] = {}
_MAX_PAGE_PARTS = 256


def _page_parts(request: HttpRequest, page_context: dict[str, Any]) -> tuple[str, str] | None:
    """The default page around its configuration script, rendered once per app, title and client base.

    Only when docsync/app.html and docsync/base.html are docsync's own (not a site's
    override) and the context processors are Django's pure ones: the page then depends on
    nothing else, and Django's render of it (a template walk per request) was the largest
    part of a page's view. None otherwise: the page is rendered as usual.
    """
    template = template_loader.get_template("docsync/app.html")
    compiled = getattr(template, "template", None)
    if type(compiled) is not DjangoTemplate or compiled.origin.name != _OWN_APP_HTML:
        return None
    key = (
        compiled,
        page_context["app"],
        page_context["title"],
        page_context["client_base"],
        page_context.get("import_map"),
    )
    parts = _PAGE_PARTS.get(key)
    if parts is not None:
        return parts
    engine = compiled.engine
    processors = engine.template_context_processors
    if any(getattr(p, "__module__", None) not in _PURE_PROCESSOR_MODULES for p in processors):
        return None
    if engine.get_template("docsync/base.html").origin.name != _OWN_BASE_HTML:
        return None
    marker = f"docsync-config-{secrets.token_hex(16)}"
    html = template.render({**page_context, "config": marker, "config_json": "", "nonce": ""}, request)
    script = json_script(marker, "docsync-config")
    if html.count(script) != 1 or html.count(marker) != 1:
        return None
    before, after = html.split(script)
    if len(_PAGE_PARTS) >= _MAX_PAGE_PARTS:
        _PAGE_PARTS.clear()
    parts = _PAGE_PARTS[key] = (before, after)
    return parts


#: What json_script escapes in the JSON it puts in a script element (django.utils.html's table).
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
#: json_script's encoder, made once (json.dumps with ``cls`` makes one per call).
_CONFIG_ENCODER = DjangoJSONEncoder()


def _config_script(config: dict[str, Any]) -> str:
    """``json_script(config, "docsync-config")``: the same text."""
    text = _CONFIG_ENCODER.encode(config).translate(_SCRIPT_ESCAPES)
    return f'<script id="docsync-config" type="application/json">{text}</script>'


def _full_context(page_context: dict[str, Any]) -> dict[str, Any]:
    """``page_context`` with the values only a template may read: ``config_json`` and a fresh ``nonce``.

    The cached parts read neither: a visit served from them makes no JSON copy of its
    configuration and reads no random bytes for a nonce that would go unused.
    """
    full = dict(page_context)
    if "config_json" not in full:
        full["config_json"] = orjson.dumps(full["config"]).decode()
    if "nonce" not in full:
        full["nonce"] = secrets.token_hex(8)
    return full


def _app_html(request: HttpRequest, page_context: dict[str, Any]) -> HttpResponse:
    """docsync/app.html rendered with ``page_context``: the same text as ``render`` gives, from cached parts.

    ``config_json`` and ``nonce`` are made (``_full_context``) when the page is rendered as a template.
    """
    parts = _page_parts(request, page_context)
    if parts is None:
        return render(request, "docsync/app.html", _full_context(page_context))
    return HttpResponse(parts[0] + _config_script(page_context["config"]) + parts[1])


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """List the applications the visitor may open (not their rules: those are the site's own)."""
    configured = get_registry().app_paths()
    paths = [path for path in configured if _may_open(request, path)]
    apps = [{"path": path, "url": reverse("docsync:app", args=[path]), "about": _about(path)} for path in paths]
    logged_in = bool(getattr(request.user, "is_authenticated", False))
    # Where "log in" leads when an app is not open to an anonymous visitor: LOGIN_URL, back here after.
    login_url = None if logged_in else redirect_to_login(request.get_full_path()).url
    # Some apps are hidden from an anonymous visitor: say that signing in may open more (the
    # index listed the public ones only, with no hint that logging in showed the rest).
    hidden = not logged_in and len(paths) < len(configured)
    context = {
        "apps": apps,
        "configured": bool(configured),
        "logged_in": logged_in,
        "login_url": login_url,
        "hidden": hidden,
    }
    return render(request, "docsync/index.html", context)


#: What ``add_never_cache_headers`` writes on a response that has neither header yet.
_NEVER_CACHE_CONTROL = "max-age=0, no-cache, no-store, must-revalidate, private"
#: (second, ``http_date`` of that second): the Expires of the responses made in that second
#: (one tuple, replaced whole: threads making pages at once read a consistent pair).
_expires: tuple[int, str] = (-1, "")


def _never_cache_headers(response: HttpResponseBase) -> None:
    """``add_never_cache_headers(response)``: the same headers, in the same order.

    A response with neither Expires nor Cache-Control (every page docsync makes) gets
    them written directly; Django's function parses and merges Cache-Control
    directives (about 80 Python calls a page). Any other goes through Django's.
    """
    headers = response.headers
    # Its names, lower-cased (the mapping's own keys): ``name in headers`` raises and
    # catches a KeyError per header it does not hold (Mapping.__contains__).
    names = {name.lower() for name in headers}
    if "expires" in names or "cache-control" in names:
        add_never_cache_headers(response)
        return
    global _expires
    now = time.time()
    second, expires = _expires
    if second != int(now):
        expires = http_date(now)
        _expires = (int(now), expires)
    headers["Expires"] = expires
    headers["Cache-Control"] = _NEVER_CACHE_CONTROL


def never_cache(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Django's ``never_cache`` for a sync view, with its headers written by ``_never_cache_headers``."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not hasattr(request, "META"):  # Django's check (a method decorated without method_decorator)
            raise TypeError(
                "never_cache didn't receive an HttpRequest. If you are decorating a classmethod, be sure to use "
                "@method_decorator."
            )
        response = view(request, *args, **kwargs)
        _never_cache_headers(response)
        return response

    return wrapper


def _remembering_visitor(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Set the cookie of an anonymous visitor the view met for the first time (visitors.py) on its response."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return remember_visitor(request, view(request, *args, **kwargs))  # type: ignore[no-any-return]

    return wrapper


# Responses that carry a session token are never cached: a shared cache or the back
# button would hand one visitor's token (and session) to another. GET only (HEAD: 405):
# each makes a token, a Bokeh app's page its session, which a HEAD would throw away.
@never_cache
@require_GET
@_remembering_visitor
def app_page(request: HttpRequest, app_path: str) -> HttpResponse:
    """Serve the page of an application; its websocket creates the session."""
    context = _context_or_404(app_path)
    denied = _denied(request, app_path, page=True)
    if denied is not None:
        return denied
    if context.application.failed:
        return _error_page(request, context)
    if context.kind != DOCSYNC_KIND:
        session_id = _session_id(request, app_path, context)  # a new one, or one the user may join
        page: HttpResponse = get_dialect(context.kind).app_page(request, context, session_id)  # type: ignore[attr-defined]
        return page
    refused = oversized_arguments(_arguments(request, frozenset()))  # its token would not pass a websocket handshake
    if refused is not None:
        return refused
    config = _client_config(request, app_path, context)
    config["page"] = True  # the app owns the page: the client keeps its title in step
    # config_json and nonce: made by _full_context for a page rendered from a template.
    page_context = {
        "app": app_path,
        "title": context.application.title or app_path,
        "config": config,
        "client_base": config["clientBase"],
        "import_map": _import_map(config["clientBase"]),
        "client_files": f"{config['clientBase']}{client_version()}/",
    }
    template = context.application.template_path()
    if template is not None:
        html = Engine.get_default().from_string(template.read_text(encoding="utf-8"))
        return HttpResponse(html.render(Context(_full_context(page_context))))
    return _app_html(request, page_context)


@require_safe
def app_metadata(request: HttpRequest, app_path: str) -> HttpResponse:
    """Serve ``{"url": ..., "data": metadata}`` of an application."""
    context = _context_or_404(app_path)
    denied = _denied(request, app_path)
    if denied is not None:
        return denied
    try:
        data = context.application.metadata
    except Exception:
        logger.exception("metadata of %s failed", app_path)
        return JsonResponse({"error": "metadata unavailable"}, status=500)
    return JsonResponse({"url": reverse("docsync:app", args=[app_path]), "data": data})


def _cors(response: HttpResponseBase, request: HttpRequest) -> HttpResponseBase:
    """Let a listed origin's page read ``response`` (CORS), and tell caches that the answer depends on ``Origin``."""
    origin = request.headers.get("Origin")
    if origin and origin_listed(origin):
        response["Access-Control-Allow-Origin"] = origin
    # Every answer, the one without Access-Control-Allow-Origin too (Fetch, "CORS protocol
    # and HTTP caches"): else a shared cache may keep an answer made for a request without
    # Origin and hand it to a listed page's import of docsync's modules (CORS mode), which
    # the browser then refuses; BokehJS's files are public for an hour.
    patch_vary_headers(response, ("Origin",))
    return response


def _embedding_refused(request: HttpRequest, app_path: str) -> HttpResponse:
    """autoload.js for a page of an origin whose websocket would be refused: 403, its body saying why, no token.

    Its configuration is readable by the page that runs it (a page can hook the calls
    the script makes): it held the token made for the browser's cookies, with the user's
    pk, the visitor id and the headers and cookies the site lets through.
    """
    origin = page_origin(request.headers)
    if origin is None:
        why = (
            "the page sends no Referer naming an origin, so its origin cannot be checked against "
            'DOCSYNC["ALLOWED_ORIGINS"] (give its script tag referrerpolicy="origin")'
        )
    else:
        why = f'the page\'s origin {origin[:200]} is not in DOCSYNC["ALLOWED_ORIGINS"]'
    text = f"docsync: autoload.js of {app_path} refused: {why}"
    # A browser runs no script answered 403, so the page's console showed only the status:
    # the site's log says why (Django's own line said only "Forbidden").
    logger.warning("%s", text)
    return HttpResponseForbidden(f"console.error({orjson.dumps(text).decode()});", content_type="text/javascript")


# GET only, as the app's page (above).
@never_cache
@require_GET
@_remembering_visitor
def autoload_js(request: HttpRequest, app_path: str) -> HttpResponseBase:
    """Serve a script that embeds the app into a page of an allowed origin, replacing element ``?target=``."""
    context = _context_or_404(app_path)
    target = request.GET.get("target", "")
    if not target:
        return HttpResponseBadRequest(
            "autoload.js needs ?target=<id of the element to replace>", content_type="text/plain"
        )
    if not page_origin_allowed(request):
        return _embedding_refused(request, app_path)
    if not check_access(_rule(app_path), request.user, app_path):
        return HttpResponseForbidden("// access denied", content_type="text/javascript")
    if context.application.failed:
        return HttpResponse(
            f"console.error({orjson.dumps('docsync app failed: ' + app_path).decode()});",
            content_type="text/javascript",
            status=500,
        )
    if context.kind != DOCSYNC_KIND:
        session_id = _session_id(request, app_path, context)
        script = get_dialect(context.kind).autoload_js(request, context, target, session_id)  # type: ignore[attr-defined]
        return _cors(script, request)
    refused = oversized_arguments(_arguments(request, RESERVED_ARGUMENTS))
    if refused is not None:
        return _cors(refused, request)
    config = _client_config(request, app_path, context, RESERVED_ARGUMENTS)
    config["target"] = target
    script = (
        "(function(){var c=" + orjson.dumps(config).decode() + ";"
        "import(c.clientBase+'embed.js').then(function(m){m.embed(c);})"
        ".catch(function(e){console.error('docsync embed failed',e);});})();\n"
    )
    return _cors(HttpResponse(script, content_type="text/javascript"), request)


@require_safe
def view_modules(request: HttpRequest, app_path: str) -> HttpResponseBase:
    """Serve ``{type name: module URL}`` of the custom models named by ``?type=`` (repeatable).

    A page asks when its document holds a model it has no built-in view for, so its
    configuration need not list every custom model the site defines.
    """
    _context_or_404(app_path)
    modules = {}
    for name in request.GET.getlist("type")[:50]:
        if name in registered_names():
            url = view_module_url(request, model_class(name))
            if url is not None:
                modules[name] = url
    return _cors(JsonResponse(modules), request)


#: Files up to this size are answered from memory: under an ASGI server Django warns
#: ("StreamingHttpResponse must consume synchronous iterators") once per process for a
#: FileResponse, which a fresh site's log would show on its first page.
_IN_MEMORY_FILE_BYTES = 1 << 20


def _file_response(file: Path, content_type: str) -> HttpResponseBase:
    if file.stat().st_size <= _IN_MEMORY_FILE_BYTES:
        return HttpResponse(file.read_bytes(), content_type=content_type)
    return FileResponse(file.open("rb"), content_type=content_type)


#: The client's files may be kept by browsers and caches, but asked again each time (a
#: page of new modules must never meet a kept old one after an upgrade): a kept file's
#: ETag is answered 304, no body.
_CLIENT_CACHE_CONTROL = "no-cache"
#: Under the version segment a URL's file never changes: kept a year, never asked again.
_CLIENT_KEPT_CACHE_CONTROL = "public, max-age=31536000, immutable"


@require_safe
def client_module(request: HttpRequest, path: str) -> HttpResponseBase:
    """Serve the JavaScript client's modules, with CORS for allowed embedding origins and a 304 for a kept copy."""
    first, _, rest = path.partition("/")
    kept_for_good = False
    if first.startswith("v-") and rest:
        # The versioned URL the page's import map names: this release's files never change
        # under it, so browsers keep them (a version not this one gets today's files, asked
        # again each time).
        kept_for_good, path = first == client_version(), rest
    file = safe_file(CLIENT_DIR, path)
    # Without a validator every page view downloaded the client again: 79 modules, 584 KB
    # for the sliders app, each time.
    stat = file.stat()
    etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    response: HttpResponseBase | None = get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime))
    if response is None:
        content_type = "text/javascript" if file.suffix in (".js", ".mjs") else mimetypes.guess_type(file)[0]
        response = _file_response(file, content_type or "application/octet-stream")
    response.headers["ETag"] = etag  # the 304 too, as RFC 9110 asks
    response.headers["Last-Modified"] = http_date(stat.st_mtime)
    response.headers["Cache-Control"] = _CLIENT_KEPT_CACHE_CONTROL if kept_for_good else _CLIENT_CACHE_CONTROL
    return _cors(response, request)


@require_safe
def app_static(request: HttpRequest, app_path: str, path: str) -> HttpResponseBase:
    """Serve a file from a directory app's ``static/`` folder, to whom its access rule lets open the app."""
    context = _context_or_404(app_path)
    # Its files are the app's (data, images, scripts): a restricted app's were served to
    # anyone, while its page and metadata were not.
    denied = _denied(request, app_path)
    if denied is not None:
        return denied
    for root in context.application.static_paths():
        try:
            file = safe_file(root, path)
        except Http404:
            continue
        return _file_response(file, mimetypes.guess_type(file)[0] or "application/octet-stream")
    raise Http404("no such file")


@require_safe
def dialect_static(request: HttpRequest, kind: str, path: str) -> HttpResponseBase:
    """Serve a document kind's own client files (BokehJS from the installed bokeh wheel)."""
    if kind == DOCSYNC_KIND or not any(spec.kind == kind for spec in get_registry().specs().values()):
        raise Http404("no such file")  # only kinds the site serves, so no package is imported on demand
    return _cors(get_dialect(kind).static_file(request, path), request)  # type: ignore[attr-defined]


def _may_read_metrics(request: HttpRequest) -> bool:
    settings = docsync_settings()
    token = settings.METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and offered.startswith("Bearer ") and secrets.compare_digest(offered[7:].encode(), str(token).encode()):
        return True
    rule = settings.METRICS
    return rule is not None and check_access(rule, getattr(request, "user", None), "docsync-metrics")


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """This process's figures in Prometheus' text format, for ``DOCSYNC["METRICS"]`` or its token."""
    if not _may_read_metrics(request):
        # 404 rather than 403: an endpoint closed to the caller is not advertised.
        raise Http404("no such page")
    return HttpResponse(render_metrics(get_registry()), content_type=METRICS_CONTENT_TYPE)
