"""The demo site's URLs plus a test-only view that reads a Bokeh session's document."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path

from docsync.server.registry import get_registry
from project.urls import urlpatterns as site_urlpatterns


async def model_property(request: HttpRequest, app_path: str, model_id: str, name: str) -> JsonResponse:
    """Return ``name`` of model ``model_id`` in every live session of ``app_path`` (read under its lock)."""
    context = get_registry().get_context(app_path)
    values: list[Any] = []
    for session in list(context.sessions.values()) if context is not None else []:
        async with session.lock:
            model = session.document.get_model_by_id(model_id)
            if model is not None:
                value = getattr(model, name)
                values.append(value.tolist() if hasattr(value, "tolist") else value)
    return JsonResponse({"values": values}, json_dumps_params={"default": str})


urlpatterns = [
    path("_test/bokeh/<slug:app_path>/<str:model_id>/<str:name>", model_property),
    *site_urlpatterns,
]
