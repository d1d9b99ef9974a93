"""URLs of the test site: the demo's, plus a login for users who are not staff."""

import asyncio

from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


async def async_view(request: HttpRequest) -> HttpResponse:
    """An async view (the HTTP handler tests check that it answers under both handlers)."""
    await asyncio.sleep(0)
    user = await request.auser()
    return HttpResponse(f"async view for {user.get_username() or 'anonymous'}", content_type="text/plain")


urlpatterns = [
    path("accounts/login/", LoginView.as_view(template_name="admin/login.html"), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("async-view/", async_view, name="async-view"),
    path("", include("project.urls")),
]
