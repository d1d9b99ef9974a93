"""The demo site's URLs plus test-only views: read a Bokeh session's document, embed Bokeh apps."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Engine
from django.urls import path

from docsync.bokeh.sessions import make_session
from docsync.server.registry import get_registry
from project.urls import urlpatterns as site_urlpatterns


def _value(obj: Any, dotted: str) -> Any:
    for name in dotted.split("."):
        if isinstance(obj, dict):
            obj = obj[name]
        elif isinstance(obj, list | tuple):
            obj = obj[int(name)]
        else:
            obj = getattr(obj, name)
    return obj.tolist() if hasattr(obj, "tolist") else obj


async def model_property(request: HttpRequest, app_path: str, name: str, attr: str) -> JsonResponse:
    """Return ``attr`` (dotted: ``selected.indices``, ``children.1.title.text``) of the model named ``name``.

    One value per live session of ``app_path`` (only session ``?session=`` if given),
    each read holding that session's lock.
    """
    context = get_registry().get_context(app_path)
    wanted = request.GET.get("session")
    values: list[Any] = []
    for session in list(context.sessions.values()) if context is not None else []:
        if wanted and session.id != wanted:
            continue
        async with session.lock:
            model = session.document if name == "document" else session.document.select_one({"name": name})
            if model is not None:
                values.append(_value(model, attr))
    return JsonResponse({"values": values}, json_dumps_params={"default": str})


_EMBED = Engine(libraries={"docsync": "docsync.templatetags.docsync"}).from_string(
    """{% load docsync %}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Embedded Bokeh apps</title></head>
<body>
<h1>Two Bokeh apps in a Django template</h1>
<section id="document"><h2>server_document, with arguments</h2>
{% docsync_app "bk_request_info" element_id="by-document" arguments=arguments %}</section>
<section id="session"><h2>server_session: a session the view made and titled</h2>
{% docsync_app "bk_sliders" element_id="by-session" session_id=session_id %}</section>
</body></html>"""
)


def embedded(request: HttpRequest) -> HttpResponse:
    """A page embedding a new session (with arguments) and one this view made and changed."""
    handle = make_session(request, "bk_sliders")

    def retitle(document: Any) -> None:
        document.select_one({"name": "title"}).value = "made by the view"

    handle.modify(retitle)
    context = Context({"arguments": {"points": "25", "colour": "firebrick"}, "session_id": handle.id})
    return HttpResponse(_EMBED.render(context))


urlpatterns = [
    path("_test/bokeh/embedded/", embedded),
    path("_test/bokeh/<slug:app_path>/<str:name>/<str:attr>", model_property),
    *site_urlpatterns,
]
