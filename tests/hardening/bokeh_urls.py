"""URLs of the hostile Bokeh-dialect tests: the Bokeh tests' (with their read-the-session views), plus a login."""

from django.contrib.auth.views import LoginView
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", LoginView.as_view(template_name="admin/login.html"), name="login"),
    path("", include("tests.bokeh.urls")),
]
