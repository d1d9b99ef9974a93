from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("report/", views.report),  # embedding: a page of your own with an app in it
    path("shapes/", views.shapes),  # migrating from bokeh-django: the page that embeds the app
    path("wave-at/", views.wave_at),  # a Bokeh session made by the view (bokeh.md)
    path("dash/", include("docsync.urls")),
]
