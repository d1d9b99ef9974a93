"""The index of apps, as an anonymous visitor sees it when no app is open to anonymous visitors."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory, override_settings

from docsync.views import index


def test_an_anonymous_visitor_with_nothing_open_gets_a_link_to_log_in(registry: object) -> None:
    # It said "try logging in" with no link: a site whose login page is not at a
    # well-known address left the visitor nowhere to go.
    docsync = {**settings.DOCSYNC, "APPS": {"sliders": settings.DOCSYNC["APPS"]["sliders"]}, "ACCESS": "login_required"}
    with override_settings(DOCSYNC=docsync, LOGIN_URL="/accounts/login/"):
        request = RequestFactory().get("/dash/")
        request.user = AnonymousUser()
        html = index(request).content.decode()
    assert 'No application here is open to you: <a href="/accounts/login/?next=/dash/">log in</a>.' in html
