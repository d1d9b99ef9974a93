"""A site with docsync's pages under ``/dash/`` and a page of its own embedding apps with the template tag."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template import Context, Template
from django.urls import include, path

EMBEDS = Template(
    """{% load docsync %}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Embeds with arguments</title></head>
<body>
  <h1>The template tag, with arguments and a session to join</h1>
  <section><h2>an argument</h2>{% docsync_app "arguments" "with-arguments" arguments=arguments %}</section>
  <section><h2>the same session, twice</h2>
    {% docsync_app "sliders" "first" session_id=session_id %}
    {% docsync_app "sliders" "second" session_id=session_id %}
  </section>
</body></html>"""
)


def embeds(request: HttpRequest) -> HttpResponse:
    """Render the embeds, joining the sliders session named by ``?session=``."""
    context = {"arguments": {"colour": ["teal", "coral"], "size": "3"}, "session_id": request.GET.get("session", "")}
    return HttpResponse(EMBEDS.render(Context(context)))


urlpatterns = [
    path("admin/", admin.site.urls),
    path("embeds/", embeds),
    path("dash/", include("docsync.urls")),
]
