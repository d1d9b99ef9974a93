"""HTTP routes: ``path("", include("docsync.urls"))`` serves every app at ``/<app>/``."""

from __future__ import annotations

from django.urls import path, re_path

from . import views

__all__ = ["app_name", "urlpatterns"]

app_name = "docsync"

urlpatterns = [
    path("", views.index, name="index"),
    path("docsync-metrics", views.metrics, name="metrics"),
    path("docsync-client/<path:path>", views.client_module, name="client-module"),
    path("docsync-<slug:kind>/static/<path:path>", views.dialect_static, name="dialect-static"),
    re_path(r"^(?P<app_path>[\w\-]+)/$", views.app_page, name="app"),
    re_path(r"^(?P<app_path>[\w\-]+)/metadata$", views.app_metadata, name="metadata"),
    re_path(r"^(?P<app_path>[\w\-]+)/autoload\.js$", views.autoload_js, name="autoload"),
    re_path(r"^(?P<app_path>[\w\-]+)/views\.json$", views.view_modules, name="view-modules"),
    re_path(r"^(?P<app_path>[\w\-]+)/static/(?P<path>.+)$", views.app_static, name="app-static"),
    # A template written for ``bokeh serve`` (page at ``/<app>``) names ``<app>/static/...``
    # relative to its page; from this page, ``<app>/``, that arrives here.
    re_path(r"^(?P<app_path>[\w\-]+)/(?P=app_path)/static/(?P<path>.+)$", views.app_static, name="app-static-relative"),
]
