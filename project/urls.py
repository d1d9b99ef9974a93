"""URLs of the demo site: the admin, an embedding demo page, and docsync's apps."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("embed-demo/", TemplateView.as_view(template_name="embed_demo.html"), name="embed-demo"),
    path("", include("docsync.urls")),
]
