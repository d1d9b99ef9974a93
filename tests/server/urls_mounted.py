"""A URLconf that mounts docsync's HTTP URLs under ``dash/`` (tests of the page's URLs)."""

from django.urls import include, path

urlpatterns = [path("dash/", include("docsync.urls"))]
