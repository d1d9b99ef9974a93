from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("report/", views.report),  # embedding: a page of your own with an app in it
    path("dash/", include("docsync.urls")),
]
