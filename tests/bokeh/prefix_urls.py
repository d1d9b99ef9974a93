"""The Bokeh test site with docsync's pages under ``/dash/``; the test-only views stay at the root."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from tests.bokeh.urls import embedded, model_property

urlpatterns = [
    path("_test/bokeh/embedded/", embedded),
    path("_test/bokeh/<slug:app_path>/<str:name>/<str:attr>", model_property),
    path("admin/", admin.site.urls),
    path("dash/", include("docsync.urls")),
]
