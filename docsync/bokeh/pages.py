"""The HTTP side of a Bokeh app: its page, autoload.js, and BokehJS from the installed wheel.

Pages are rendered with Bokeh's own embed machinery around a signed docsync token. As
``bokeh serve`` does, the page makes its session first (sessions.py) and renders the
document's template (a directory app's ``templates/index.html``) with its roots, title
and ``template_variables``; the websocket then joins that session. autoload.js (the
embedding of ``server_document`` / ``server_session``) makes none: its websocket does.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
import secrets
from pathlib import Path
from typing import Any

from asgiref.sync import async_to_sync
from bokeh.core.has_props import HasProps
from bokeh.core.templates import AUTOLOAD_JS, FILE
from bokeh.core.types import ID
from bokeh.embed.bundle import Bundle, Script, bundle_for_objs_and_resources
from bokeh.embed.elements import html_page_for_render_items, script_for_render_items
from bokeh.embed.util import RenderItem
from bokeh.resources import Resources
from bokeh.util.paths import static_path
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import escape

from ..exceptions import (
    AccessRefusedError,
    ApplicationError,
    ClientLimitError,
    ConnectionClosingError,
    RateLimitedError,
)
from ..server.admission.request_info import oversized_arguments, request_info
from ..server.admission.tokens import issue_token
from ..server.admission.visitors import page_visitor
from ..static_files import safe_file
from .sessions import loaded_user, page_request, request_arguments, request_client, session_here

__all__ = ["app_page", "autoload_js", "bokeh_token", "bundle_for", "resources_for", "static_file"]

logger = logging.getLogger("docsync.bokeh")

STATIC_ROOT = Path(static_path())


def _user_id(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def bokeh_token(
    session_id: str,
    app_path: str,
    user_id: str | None,
    arguments: dict[str, list[str]],
    info: dict[str, dict[str, str]] | None = None,
    visitor: tuple[str | None, bool] = (None, False),
) -> str:
    """A docsync token BokehJS can read: its payload names ``session_id`` as Bokeh's does.

    It is docsync's signed token (django.core.signing, the site's SECRET_KEY, bound to
    the app and the user, or the anonymous ``visitor``: id and fresh, from page_visitor);
    BokehJS only decodes the payload's first segment.
    """
    return issue_token(
        session_id,
        app_path,
        user_id,
        arguments,
        request_info=info,
        extra={"session_id": session_id},
        visitor=visitor[0],
        visitor_fresh=visitor[1],
    )


def _static_root(request: HttpRequest) -> str:
    root = request.build_absolute_uri(reverse("docsync:dialect-static", args=["bokeh", "x"]))
    return root.removesuffix("static/x")


def resources_for(request: HttpRequest) -> Resources:
    """Bokeh resources pointing at this server's copy of BokehJS (absolute, for embedding)."""
    return Resources(mode="server", root_url=_static_root(request))


#: Bundles by (static root, model classes known): made once, copied per page.
_bundles: dict[tuple[str, int], Bundle] = {}
#: The Host header chooses the root: at most this many are kept.
_BUNDLES_KEPT = 16


def bundle_for(request: HttpRequest) -> Bundle:
    """Bokeh's bundle of BokehJS files (and extensions') for a page, as ``bokeh serve`` makes it.

    Bokeh builds it anew for every page: a walk over every model class for extensions,
    with a file check each (a third of a page's CPU). It depends only on the URL root
    and the model classes defined, so it is made once for each and copied (pages add
    their own script to it).
    """
    root = _static_root(request)
    key = (root, len(HasProps.model_class_reverse_map))
    made = _bundles.get(key)
    if made is None:
        made = bundle_for_objs_and_resources(None, Resources(mode="server", root_url=root))
        if len(_bundles) >= _BUNDLES_KEPT:
            _bundles.clear()
        _bundles[key] = made
    return Bundle(made.js_files, made.js_raw, made.css_files, made.css_raw, made.hashes)


async def _page_with_document(
    context: Any, session_id: str, session_request: dict[str, Any], token: str, bundle: Bundle, client: str | None
) -> str | None:
    """The page rendered around the session's document (None: another process holds the session)."""
    session = await session_here(context.path, session_id, session_request, client=client)
    if session is None:
        return None
    async with session.lock:  # the roots, title and template variables are the document's
        document = session.document
        title = document.title or context.application.title or context.options.get("title") or context.path
        if not all(_PLAIN_ID.fullmatch(root.id) for root in document.roots):
            # Bokeh's templates write each root's id raw, in an attribute (data-root-id)
            # and in the roots' map inside a script: a root a browser added under an id
            # holding markup wrote it into the page of everyone opening the session. The
            # whole document then goes into one element of the default template (title
            # escaped), as for a session another process holds.
            return _whole_document_page(token, bundle, title)
        item = RenderItem(token=token, roots=document.roots, use_for_title=True)
        variables = dict(document.template_variables)
        try:
            return html_page_for_render_items(bundle, {}, [item], title, document.template, variables)
        except ValueError as exc:
            # The template names a root the document no longer holds (``roots.controls``
            # after a browser removed it, as Bokeh lets it): Bokeh raises, and the page
            # answered 500 for the session's user, or every reader of a shareable one.
            logger.warning("%s: page of session %s in the default template: %s", context.path, session_id, exc)
            return _whole_document_page(token, bundle, title)


#: Root ids a page names in its HTML: Bokeh's (``p1234``, uuids), BokehJS's (uuids, ``j12``) and the like.
_PLAIN_ID = re.compile(r"[A-Za-z0-9_\-.:]{1,256}")


def _whole_document_page(token: str, bundle: Bundle, title: str) -> str:
    item = RenderItem(token=token, elementid=ID(f"bk-{secrets.token_hex(6)}"), use_for_title=True)
    return html_page_for_render_items(bundle, {}, [item], title, template=FILE, template_variables={})


def _page_without_document(context: Any, token: str, bundle: Bundle) -> str:
    # The session is another process's: the whole document goes where the default
    # template's contents are (an app's template may name roots this page cannot know).
    title = context.application.title or context.options.get("title") or context.path
    return _whole_document_page(token, bundle, title)


def _refused(exc: ConnectionClosingError) -> HttpResponse:
    # A client at its own limit, or making sessions too fast, is told so (429); the
    # process's limits and failures: 503.
    status = 503
    if isinstance(exc, AccessRefusedError):
        status = 403
    elif isinstance(exc, ApplicationError):
        status = 500
    elif isinstance(exc, (ClientLimitError, RateLimitedError)):
        status = 429
    body = f"<!DOCTYPE html><title>{escape(str(exc))}</title><p>{escape(str(exc))}</p>"
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def app_page(request: HttpRequest, context: Any, session_id: str) -> HttpResponse:
    """The app's own page: its session made (or joined), rendered with its template."""
    arguments = request_arguments(request)
    refused = oversized_arguments(arguments)  # its token would not pass a websocket handshake
    if refused is not None:
        return refused
    user = loaded_user(request)
    visitor = page_visitor(request, context)
    session_request = page_request(request, context.path, user=user, arguments=arguments, visitor=visitor[0])
    info = {"headers": session_request["headers"], "cookies": session_request["cookies"]}
    token = bokeh_token(session_id, context.path, _user_id(request), arguments, info, visitor)
    bundle = bundle_for(request)
    try:
        client = request_client(request, user)
        html = async_to_sync(_page_with_document)(context, session_id, session_request, token, bundle, client)
    except ConnectionClosingError as exc:
        logger.info("%s: page refused: %s", context.path, exc)
        return _refused(exc)
    if html is None:
        html = _page_without_document(context, token, bundle)
    return HttpResponse(html, content_type="text/html; charset=utf-8")


def autoload_js(request: HttpRequest, context: Any, target: str, session_id: str) -> HttpResponse:
    """A script that loads BokehJS and embeds session ``session_id`` (new, or joined) into ``target``."""
    arguments = request_arguments(request)
    refused = oversized_arguments(arguments)  # its token would not pass a websocket handshake
    if refused is not None:
        return refused
    visitor = page_visitor(request, context)
    info = request_info(request, arguments)
    token = bokeh_token(session_id, context.path, _user_id(request), arguments, info, visitor)
    # Bokeh's template writes the element id raw into a JavaScript string (its warning
    # when the element is missing): a quote in ``?target=`` ran script in the embedding
    # page. The script is made around a placeholder of letters and digits, which every
    # place it lands in (that warning, getElementById's argument, the render item's
    # JSON) holds inside a double-quoted string, and the placeholder is then replaced
    # with the target escaped for such a string.
    placeholder = f"docsyncTarget{secrets.token_hex(8)}"
    item = RenderItem(token=token, elementid=ID(placeholder), use_for_title=False)
    bundle = bundle_for(request)
    absolute_url = request.build_absolute_uri("/")
    # BokehJS opens ``<absolute_url's host><app_path>/ws``: the app's path as this request
    # reached it, so that a site mounting docsync under a prefix (``dash/``) or a script
    # name keeps it for the websocket too.
    app_path = request.path.removesuffix("/autoload.js")
    script = script_for_render_items({}, [item], app_path=app_path, absolute_url=absolute_url)
    bundle.add(Script(script))
    js = AUTOLOAD_JS.render(bundle=bundle, elementid=placeholder)
    return HttpResponse(js.replace(placeholder, _js_string_text(target)), content_type="text/javascript")


#: Characters a JavaScript string's text spells as escapes here (beyond JSON's own): the
#: quotes of either kind, and what would end or open an HTML element around the script.
_JS_STRING_ESCAPES = {ord(c): f"\\u{ord(c):04x}" for c in "'<>&\u2028\u2029"}


def _js_string_text(text: str) -> str:
    """``text`` as the inside of a JavaScript string literal in either quotes, never closing it."""
    return json.dumps(text)[1:-1].translate(_JS_STRING_ESCAPES)


def static_file(request: HttpRequest, path: str) -> HttpResponse:
    """Serve a file of BokehJS from the installed bokeh package (DEBUG off, no collectstatic)."""
    file = safe_file(STATIC_ROOT, path)  # every odd name a missing file, as on docsync's own routes
    content_type = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
    # From memory (the largest, bokeh-mathjax.min.js, is under 2 MB): under an ASGI server
    # Django warns once per process for a FileResponse, a sync iterator, which a migrated
    # site's log showed on its first Bokeh page under uvicorn.
    response = HttpResponse(file.read_bytes(), content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "public, max-age=3600"
    return response
