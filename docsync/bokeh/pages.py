"""The HTTP side of a Bokeh app: its page, autoload.js, and BokehJS from the installed wheel.

Pages are rendered with Bokeh's own embed machinery (its FILE template, or a directory
app's ``templates/index.html``) around one render item: a signed docsync token. As with
docsync's own apps, the page creates no document; the websocket does.
"""

from __future__ import annotations

import mimetypes
import secrets
from pathlib import Path
from typing import Any

from bokeh.core.templates import AUTOLOAD_JS, FILE
from bokeh.core.types import ID
from bokeh.embed.bundle import Script, bundle_for_objs_and_resources
from bokeh.embed.elements import html_page_for_render_items, script_for_render_items
from bokeh.embed.util import RenderItem
from bokeh.resources import Resources
from bokeh.util.paths import static_path
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse

from ..server.admission.request_info import request_info
from ..server.admission.tokens import generate_session_id, issue_token

__all__ = ["app_page", "autoload_js", "bokeh_token", "resources_for", "static_file"]

STATIC_ROOT = Path(static_path())


def _user_id(request: HttpRequest) -> str | None:
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def request_arguments(request: HttpRequest, *, skip: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The query arguments a session is made with (bounded in number and size)."""
    return {key: request.GET.getlist(key)[:20] for key in list(request.GET)[:50] if key not in skip}


def bokeh_token(
    session_id: str,
    app_path: str,
    user_id: str | None,
    arguments: dict[str, list[str]],
    info: dict[str, dict[str, str]] | None = None,
) -> str:
    """A docsync token BokehJS can read: its payload names ``session_id`` as Bokeh's does.

    It is docsync's signed token (django.core.signing, the site's SECRET_KEY, bound to
    the app and the user); BokehJS only decodes the payload's first segment.
    """
    return issue_token(session_id, app_path, user_id, arguments, request_info=info, extra={"session_id": session_id})


def resources_for(request: HttpRequest) -> Resources:
    """Bokeh resources pointing at this server's copy of BokehJS (absolute, for embedding)."""
    root = request.build_absolute_uri(reverse("docsync:dialect-static", args=["bokeh", "x"]))
    return Resources(mode="server", root_url=root.removesuffix("static/x"))


def app_page(request: HttpRequest, context: Any) -> HttpResponse:
    """The app's own page: BokehJS, and a render item whose token opens a new session."""
    session_id = generate_session_id()
    token = bokeh_token(session_id, context.path, _user_id(request), request_arguments(request), request_info(request))
    # An element of its own, so that a directory app's template places the roots where
    # it calls {{ super() }} in its contents block.
    item = RenderItem(token=token, elementid=ID(f"bk-{secrets.token_hex(6)}"), use_for_title=True)
    bundle = bundle_for_objs_and_resources(None, resources_for(request))
    template = context.application.jinja_template() or FILE
    title = context.application.title or context.options.get("title") or context.path
    html = html_page_for_render_items(bundle, {}, [item], title, template=template, template_variables={})
    return HttpResponse(html, content_type="text/html; charset=utf-8")


def autoload_js(request: HttpRequest, context: Any, target: str) -> HttpResponse:
    """A script that loads BokehJS and embeds a new session (or ``token=``'s) into ``target``."""
    token = request.GET.get("token")
    if not token:
        arguments = request_arguments(request, skip=("target", "token"))
        token = bokeh_token(generate_session_id(), context.path, _user_id(request), arguments, request_info(request))
    # A token given here (server_session) is checked by the websocket like any other.
    item = RenderItem(token=token, elementid=ID(target), use_for_title=False)
    bundle = bundle_for_objs_and_resources(None, resources_for(request))
    absolute_url = request.build_absolute_uri("/")
    script = script_for_render_items({}, [item], app_path="/" + context.path, absolute_url=absolute_url)
    bundle.add(Script(script))
    js = AUTOLOAD_JS.render(bundle=bundle, elementid=target)
    return HttpResponse(js, content_type="text/javascript")


def static_file(request: HttpRequest, path: str) -> FileResponse:
    """Serve a file of BokehJS from the installed bokeh package (DEBUG off, no collectstatic)."""
    file = (STATIC_ROOT / path).resolve()
    if not file.is_file() or STATIC_ROOT.resolve() not in file.parents:
        raise Http404("no such file")
    content_type = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
    response = FileResponse(file.open("rb"), content_type=content_type or "application/octet-stream")
    response["Cache-Control"] = "public, max-age=3600"
    return response
