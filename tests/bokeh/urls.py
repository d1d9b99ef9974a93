"""The demo site's URLs plus test-only views: read a Bokeh session's document, embed Bokeh apps."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
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


def _session(app_path: str, session_id: str) -> Any:
    context = get_registry().get_context(app_path)
    session = context.sessions.get(session_id) if context is not None else None
    if session is None:
        raise Http404(f"no session {session_id!r} of {app_path!r}")
    return session


async def example_probe(request: HttpRequest, app_path: str) -> JsonResponse:
    """What tests/bokeh/upstream_examples.py reads of a session's Python side (under its lock).

    ``models``: every model with Python callbacks (its type, the properties it watches with
    ``on_change``, the events it watches with ``on_event``) or a widget's value; ``digest``:
    a hash of the document's JSON without model ``?except=`` (has the app changed anything
    else?); ``events``: what the watchers ``example_watch`` attached have counted;
    ``values``: ``?attr=id.prop`` pairs read now.
    """
    session = _session(app_path, request.GET.get("session", ""))
    excluded = request.GET.get("except", "")
    async with session.lock:
        document = session.document
        models = []
        for model in document.models:
            watched = sorted(name for name, callbacks in model._callbacks.items() if callbacks)
            events = sorted(name for name, callbacks in model._event_callbacks.items() if callbacks)
            if watched or events or hasattr(model, "value") or hasattr(model, "active"):
                models.append({"id": model.id, "type": type(model).__name__, "watched": watched, "events": events})
        values = {}
        for pair in request.GET.getlist("attr"):
            model_id, _, dotted = pair.partition(".")
            values[pair] = _value(document.get_model_by_id(model_id), dotted)
        digest = _digest(document, excluded)
        periodic = sum(1 for callback in document.session_callbacks if type(callback).__name__ == "PeriodicCallback")
    counted = {key: count for key, count in _EVENT_COUNTS.items() if key.startswith(f"{session.id}/")}
    body = {"models": models, "digest": digest, "values": values, "events": counted, "periodic": periodic}
    return JsonResponse(body, json_dumps_params={"default": str})


def _plain(obj: Any) -> Any:
    if hasattr(obj, "id") and hasattr(obj, "properties_with_values"):
        return obj.id  # a model: by reference
    if hasattr(obj, "tobytes"):
        return hashlib.sha1(obj.tobytes()).hexdigest()
    return str(obj)


def _digest(document: Any, excluded: str) -> str:
    """A hash of every model's set properties, but model ``excluded``'s (the driven widget's own)."""
    digest = hashlib.sha1()
    for model in sorted(document.models, key=lambda m: m.id):
        if model.id == excluded:
            continue
        digest.update(model.id.encode())
        values = model.properties_with_values(include_defaults=False)
        digest.update(orjson.dumps(values, default=_plain, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))
    return digest.hexdigest()


def _plain_column(values: Any) -> Any:
    """A column as BokehJS holds it, in JSON: datetimes as ms, array cells as nested lists."""
    if hasattr(values, "dtype") and values.dtype.kind == "M":
        return (values.astype("datetime64[ns]").astype("int64") / 1e6).tolist()
    if hasattr(values, "tolist"):
        return values.tolist()
    return [_plain_column(value) if hasattr(value, "tolist") else value for value in values]


async def data_sources(request: HttpRequest, app_path: str) -> JsonResponse:
    """Every named data source's columns (``_plain_column``, with each one's type), and model ``marker``'s value."""
    session = _session(app_path, request.GET.get("session", ""))
    async with session.lock:
        document = session.document
        sources = {}
        for model in document.models:
            if model.name and hasattr(model, "stream"):
                sources[model.name] = {
                    name: {
                        "values": _plain_column(values),
                        "type": str(getattr(values, "dtype", type(values).__name__)),
                    }
                    for name, values in model.data.items()
                }
        marker = document.select_one({"name": "marker"})
    return JsonResponse({"sources": sources, "marker": marker.value if marker is not None else None})


_EVENT_COUNTS: dict[str, int] = {}


async def example_watch(request: HttpRequest, app_path: str) -> JsonResponse:
    """Count, from now on, the events model ``?id=`` has Python callbacks for (``example_probe`` reports them)."""
    session = _session(app_path, request.GET.get("session", ""))
    model_id = request.GET.get("id", "")
    async with session.lock:
        model = session.document.get_model_by_id(model_id)
        if model is None:
            raise Http404(f"no model {model_id!r}")
        names = [name for name, callbacks in model._event_callbacks.items() if callbacks]
        for name in names:
            key = f"{session.id}/{model_id}/{name}"
            _EVENT_COUNTS.setdefault(key, 0)

            def count(event: Any, key: str = key) -> None:
                _EVENT_COUNTS[key] += 1

            model.on_event(name, count)
    return JsonResponse({"watching": names})


urlpatterns = [
    path("_test/bokeh/embedded/", embedded),
    path("_test/bokeh/<slug:app_path>/probe", example_probe),
    path("_test/bokeh/<slug:app_path>/watch", example_watch),
    path("_test/bokeh/<slug:app_path>/sources", data_sources),
    path("_test/bokeh/<slug:app_path>/<str:name>/<str:attr>", model_property),
    *site_urlpatterns,
]
