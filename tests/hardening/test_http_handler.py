"""docsync.asgi's one-hop HTTP handler answers exactly as Django's own: statuses, security headers, CSRF, auth.

Two uvicorn processes serve the same site and database: the demo's asgi.py (docsync's
handler) and the same application with Django's ``get_asgi_application``. The same
requests, anonymous and logged in, get the same answers from both.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest

from docsync.asgi import IDLE_THREADS, _ThreadPool
from docsync.client import fetch_page_config
from docsync.exceptions import DocsyncError

from .harness import Browser, Database, Response, Site

#: Headers that differ between any two answers (time, length of a page's token and nonce).
_VARYING = {"date", "server", "content-length"}
_DJANGO_ASGI = "tests.hardening.stock_asgi:application"


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, database: Database) -> Iterator[tuple[Site, Site]]:
    """(docsync's handler, Django's handler), each a uvicorn process on its own copy of the database."""
    ours = Site(tmp_path_factory.mktemp("one-hop"), database, server="uvicorn")
    django = Site(tmp_path_factory.mktemp("django-asgi"), database, server="uvicorn", asgi_app=_DJANGO_ASGI)
    ours.start()
    try:
        django.start()
        try:
            yield ours, django
        finally:
            django.stop()
    finally:
        ours.stop()


def _shape(answer: Response) -> tuple[int, dict[str, str], list[str]]:
    """An answer's status, its headers but the varying ones, and its cookies' names and attributes (no values)."""
    headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() not in _VARYING | {"set-cookie"}}
    if "expires" in headers:  # a time (now, for a page never cached): present on both, its value varies
        headers["expires"] = "<a time>"
    cookies = sorted(
        value.split("=", 1)[0] + ";" + value.split(";", 1)[1].replace(" ", "")
        for key, value in answer.headers.items()
        if key.lower() == "set-cookie"
    )
    # The expiry date of a cookie is a time too.
    cookies = [";".join(p for p in c.split(";") if not p.lower().startswith("expires=")) for c in cookies]
    return answer.status, headers, cookies


def _both(sites: tuple[Site, Site], user: str | None) -> tuple[Browser, Browser]:
    ours, django = sites
    return ours.browser(user), django.browser(user)


@pytest.mark.parametrize("user", [None, "alice", "staffer"])
def test_pages_and_files_answer_as_under_django_s_handler(sites: tuple[Site, Site], user: str | None) -> None:
    ours, django = _both(sites, user)
    paths = [
        "rule_public/",  # a page with a token: never cached, framed by nobody
        "rule_login/",  # the login redirect, or the page
        "rule_staff/",  # 302, 403 or the page
        "rule_perm/metadata",
        "rule_public/autoload.js?target=x",
        "no-such-app/",  # 404
        "rule_public",  # CommonMiddleware's slash redirect
        "docsync-client/client_protocol.js",  # a FileResponse
        "admin/",  # the admin's own login redirect (or its index)
        "async-view/",  # an async view: run in the request's thread under docsync's handler
        "",
    ]
    for path in paths:
        mine, theirs = ours.get(path), django.get(path)
        assert _shape(mine) == _shape(theirs), path
        if "token" not in mine.body and "csrfmiddlewaretoken" not in mine.body:
            assert mine.body == theirs.body, path
    assert ours.get("async-view/").body == f"async view for {user or 'anonymous'}"
    statuses = {path: ours.get(path).status for path in ("rule_login/", "rule_staff/")}
    expected = {None: (302, 302), "alice": (200, 403), "staffer": (200, 200)}[user]
    assert (statuses["rule_login/"], statuses["rule_staff/"]) == expected


def test_csrf_and_methods_are_refused_as_under_django_s_handler(sites: tuple[Site, Site]) -> None:
    ours, django = _both(sites, None)
    for browser in (ours, django):
        browser.get("accounts/login/")  # the CSRF cookie
    # A form without its CSRF token, a token that does not match, a method a page refuses.
    bare = {"username": "alice", "password": "x"}
    for post in (
        lambda b: b._open(_request(b, "accounts/login/", b"username=alice&password=x")),
        lambda b: b._open(_request(b, "accounts/login/", b"username=alice&csrfmiddlewaretoken=forged")),
        lambda b: b.post("rule_public/", bare),
    ):
        mine, theirs = post(ours), post(django)
        assert _shape(mine) == _shape(theirs)
        assert mine.status in (403, 405)
    # A wrong password: the form again, with its error, on both.
    mine, theirs = ours.post("accounts/login/", bare), django.post("accounts/login/", bare)
    assert mine.status == theirs.status == 200 and "Please enter a correct" in mine.body


def _request(browser: Browser, path: str, body: bytes) -> urllib.request.Request:
    url = browser.base + path
    return urllib.request.Request(url, data=body, headers={"Referer": url})


def test_a_login_and_logout_work_and_end_the_session(sites: tuple[Site, Site]) -> None:
    ours, _ = sites
    browser = ours.browser("alice")
    assert browser.get("rule_login/").status == 200
    browser.logout()
    assert browser.get("rule_login/").status == 302


def test_an_idle_thread_is_kept_a_busy_one_is_not() -> None:
    pool = _ThreadPool()
    first = pool.take()
    first.submit(time.sleep, 0).result()
    pool.give_back(first)
    assert pool.take() is first  # kept for the next request
    # A view still running (its client left): its thread is not handed on.
    release = threading.Event()
    first.submit(release.wait, 30)
    pool.give_back(first)
    second = pool.take()
    assert second is not first
    release.set()
    # At most IDLE_THREADS are kept.
    many = [pool.take() for _ in range(IDLE_THREADS + 3)]
    for executor in [second, *many]:
        pool.give_back(executor)
    assert len(pool._idle) == IDLE_THREADS
    assert {id(pool.take()) for _ in range(IDLE_THREADS)} <= {id(e) for e in [second, *many]}


def test_files_are_served_without_django_s_streaming_warning(sites: tuple[Site, Site]) -> None:
    # Under an ASGI server Django warns once per process for a response streamed from a
    # sync iterator (a FileResponse): the README's asgi.py (Django's handler) showed it
    # under uvicorn on a fresh site's first page. docsync's client files and an app's
    # static files are small, and answered from memory.
    for site in sites:
        browser = site.browser()
        for path in ("docsync-client/client_protocol.js", "docsync-client/docsync.css", "lifecycle/static/README.txt"):
            assert browser.get(path).status == 200, path
    for site in sites:
        assert "StreamingHttpResponse must consume" not in site.log_text()


def test_the_client_says_where_an_app_behind_a_login_sent_it(sites: tuple[Site, Site]) -> None:
    # It said only "no docsync configuration in the page at .../rule_login/": the page it
    # read was the login form the app redirected to.
    ours, _ = sites
    with pytest.raises(DocsyncError) as raised:
        fetch_page_config(ours.url + "rule_login/")
    assert str(raised.value) == (
        f"no docsync configuration in the page at {ours.url}rule_login/ (redirected to "
        f"{ours.url}accounts/login/?next=/rule_login/: does the app need a login?)"
    )
