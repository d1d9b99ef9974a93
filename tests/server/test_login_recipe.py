"""docs/howto/access.md's login recipe, as written: a startproject site's LOGIN_URL made a page.

The page says: add ``path("accounts/", include("django.contrib.auth.urls"))``, a
``registration/login.html`` of one form, and ``LOGIN_REDIRECT_URL = "/dash/"``; then an
anonymous visitor of a ``login_required`` app is sent to the form and back to the app,
and a sign-in on the form opened by itself lands on the index. The URL line and the
template are read from the page.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import include, path

from docsync.site_checks import check_site

from .settings import DOCSYNC as TEST_DOCSYNC

PAGE = Path(__file__).resolve().parents[2] / "docs" / "howto" / "access.md"
TEXT = " ".join(PAGE.read_text().split())  # the page's lines joined: a snippet may span two
AUTH_URLS = re.search(r'`(path\("accounts/", include\("django\.contrib\.auth\.urls"\)\))`', TEXT)
LOGIN_TEMPLATE = re.search(r"`(<form method=\"post\">.*?</form>)`", TEXT)
REDIRECT = re.search(r'`LOGIN_REDIRECT_URL = "([^"]+)"`', TEXT)

# This module is the test's ROOT_URLCONF: the apps under /dash/, as the README mounts them,
# and the line the page says to add.
urlpatterns = [path("dash/", include("docsync.urls"))]
if AUTH_URLS:
    urlpatterns.append(eval(AUTH_URLS.group(1), {"path": path, "include": include}))  # the page's own line


def test_the_access_guides_login_recipe_signs_a_visitor_in_and_back(database: str, tmp_path: Path) -> None:
    assert AUTH_URLS and LOGIN_TEMPLATE and REDIRECT, "access.md no longer shows the recipe this test reads"
    (tmp_path / "registration").mkdir()
    (tmp_path / "registration" / "login.html").write_text(LOGIN_TEMPLATE.group(1))
    templates = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path], "APP_DIRS": True}]
    apps = {**TEST_DOCSYNC["APPS"], "members": {"app": "project.examples.sliders", "access": "login_required"}}
    name = f"login-recipe-{uuid.uuid4().hex[:8]}"
    get_user_model().objects.create_user(name, password="a-password-9")
    with override_settings(
        ROOT_URLCONF=__name__,
        TEMPLATES=templates,
        LOGIN_URL="/accounts/login/",  # Django's default, which the page starts from
        LOGIN_REDIRECT_URL=REDIRECT.group(1),
        DOCSYNC={**TEST_DOCSYNC, "APPS": apps},
    ):
        assert [m.id for m in check_site() if m.id == "docsync.W009"] == []
        visitor = Client()
        sent = visitor.get("/dash/members/")
        assert (sent.status_code, sent["Location"]) == (302, "/accounts/login/?next=/dash/members/")
        form = visitor.get(sent["Location"])
        assert form.status_code == 200 and b'name="password"' in form.content
        signed_in = visitor.post(sent["Location"], {"username": name, "password": "a-password-9"})
        assert (signed_in.status_code, signed_in["Location"]) == (302, "/dash/members/")
        assert visitor.get("/dash/members/").status_code == 200
        # The form opened by itself: LOGIN_REDIRECT_URL, the index.
        alone = Client().post("/accounts/login/", {"username": name, "password": "a-password-9"})
        assert (alone.status_code, alone["Location"]) == (302, "/dash/")
        assert Client().get("/dash/").status_code == 200
