"""URLs of the demo site: the admin, an embedding demo page, docsync's apps and the site's icon."""

from django.contrib import admin
from django.urls import include, path, reverse_lazy
from django.views.generic import RedirectView, TemplateView

urlpatterns = [
    path("admin/", admin.site.urls),
    # Django's admin pages name no icon, so browsers ask for /favicon.ico: docsync's, not a 404.
    path(
        "favicon.ico",
        RedirectView.as_view(url=reverse_lazy("docsync:client-module", args=["favicon.svg"]), permanent=True),
    ),
    path("embed-demo/", TemplateView.as_view(template_name="embed_demo.html"), name="embed-demo"),
    path("", include("docsync.urls")),
]
