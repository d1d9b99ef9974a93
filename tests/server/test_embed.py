"""server_document / server_session and the template tag: the HTML they emit."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.template import Context, Template
from django.test import override_settings

from docsync.embed import autoload_url, server_document, server_session


def _script(html: str) -> tuple[str, str, list[tuple[str, str]]]:
    """Return (placeholder id, script path, query pairs) of an embed's HTML."""
    match = re.fullmatch(r'<div id="([^"]+)" class="docsync-embed"></div><script src="([^"]+)"></script>', html)
    assert match, html
    src = match.group(2).replace("&amp;", "&")
    parts = urlsplit(src)
    return (
        match.group(1),
        f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else parts.path,
        parse_qsl(parts.query),
    )


def test_server_document_of_an_app_path_with_arguments() -> None:
    target, path, query = _script(server_document("sliders", {"colour": ["teal", "coral"], "size": "3"}))
    assert path == "/sliders/autoload.js"
    assert target.startswith("docsync-sliders-")
    assert query == [("target", target), ("colour", "teal"), ("colour", "coral"), ("size", "3")]


def test_numbers_are_sent_as_their_text() -> None:
    # As Bokeh's server_document does; a view's context often holds them ({"year": 2024}).
    # It was a TypeError ('int' object is not iterable).
    target, _, query = _script(server_document("sliders", {"year": 2024, "ids": [1, 2], "scale": 0.5}))
    assert query == [("target", target), ("year", "2024"), ("ids", "1"), ("ids", "2"), ("scale", "0.5")]


def test_server_document_of_another_site_and_a_chosen_element() -> None:
    target, path, query = _script(server_document("https://apps.example.com/dash/sliders/", element_id="here"))
    assert (target, path, query) == ("here", "https://apps.example.com/dash/sliders/autoload.js", [("target", "here")])


def test_server_session_names_the_session_to_join() -> None:
    _, path, query = _script(server_session("/dash/board/", "abc123", arguments={"room": "x"}))
    assert path == "/dash/board/autoload.js"
    assert query[1:] == [("room", "x"), ("session_id", "abc123")]


def test_target_is_not_an_argument() -> None:
    with pytest.raises(ValueError, match="'target' is reserved"):
        autoload_url("sliders", target="t", arguments={"target": "x"})


def test_values_are_escaped() -> None:
    html = server_document("sliders", {"q": '"><script>'}, element_id='a"b')
    assert "<script>" not in html.replace("<script src=", "") and 'id="a&quot;b"' in html


def test_the_template_tag_takes_arguments_and_a_session_id() -> None:
    template = Template(
        '{% load docsync %}{% docsync_app "sliders" "one" arguments=args %}|'
        '{% docsync_app "sliders" element_id="two" session_id=sid %}'
    )
    first, second = template.render(Context({"args": {"n": "1"}, "sid": "s-1"})).split("|")
    assert _script(first) == ("one", "/sliders/autoload.js", [("target", "one"), ("n", "1")])
    assert _script(second) == ("two", "/sliders/autoload.js", [("target", "two"), ("session_id", "s-1")])


def test_an_app_name_that_is_not_configured_is_refused_naming_those_that_are() -> None:
    # "slider" for "sliders" emitted a placeholder that stayed empty (its autoload.js a 404).
    with override_settings(
        DOCSYNC={"APPS": {"sliders": "project.examples.sliders", "board": "project.examples.board"}}
    ):
        with pytest.raises(ValueError, match=r"^no docsync app 'slider': DOCSYNC\['APPS'\] names 'board', 'sliders'$"):
            server_document("slider")
        with pytest.raises(ValueError, match="no docsync app 'slider'"):
            Template('{% load docsync %}{% docsync_app "slider" %}').render(Context({}))
        assert _script(server_document("sliders"))[1] == "/sliders/autoload.js"
        # A URL is another site's (or this one's under a prefix): not judged here.
        assert _script(server_document("/elsewhere/slider/"))[1] == "/elsewhere/slider/autoload.js"


@pytest.mark.parametrize("arguments", ["x=1", ["x", "1"]])
def test_arguments_that_are_no_dict_are_refused_saying_what_they_are(arguments: object) -> None:
    # A template has no dict literal: arguments="x=1" raised AttributeError 'SafeString'
    # object has no attribute 'items'.
    template = Template('{% load docsync %}{% docsync_app "sliders" arguments=args %}')
    with pytest.raises(
        TypeError,
        match=r"^arguments is a dict of names to values \(in a template, a dict from the view's context\), not ",
    ):
        template.render(Context({"args": arguments}))
    with pytest.raises(TypeError, match="arguments is a dict"):
        Template('{% load docsync %}{% docsync_app "sliders" arguments="x=1" %}').render(Context({}))


@pytest.mark.asyncio
@pytest.mark.parametrize("urlconf", ["tests.server.settings", "tests.e2e.prefix_urls"])
async def test_an_app_page_names_its_urls_as_reverse_would(urlconf: str, registry: object) -> None:
    # The page derives its client's URLs from one reverse(): they must be the routes' own,
    # under the site's prefix (/dash/ in tests.e2e.prefix_urls) as at the root.
    import json

    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory, override_settings
    from django.urls import reverse

    from docsync.views import app_page, client_version

    root_urlconf = None if urlconf == "tests.server.settings" else urlconf
    with override_settings(**({"ROOT_URLCONF": root_urlconf} if root_urlconf else {})):
        page_path = reverse("docsync:app", args=["sliders"])
        request = RequestFactory().get(page_path)
        request.user = AnonymousUser()
        html = app_page(request, "sliders").content.decode()
        config = json.loads(re.search(r'<script id="docsync-config" type="application/json">(.*?)</script>', html)[1])
        absolute = request.build_absolute_uri
        assert config["wsUrl"] == "ws" + absolute(page_path).removeprefix("http") + "ws"
        assert config["viewModulesUrl"] == absolute(reverse("docsync:view-modules", args=["sliders"]))
        assert config["clientBase"] + "embed.js" == absolute(reverse("docsync:client-module", args=["embed.js"]))
        # The stylesheet is linked under the client's version segment, kept for good (client_version).
        assert f'href="{config["clientBase"]}{client_version()}/docsync.css"' in html
        assert client_version().startswith("v-")
    if root_urlconf:
        assert "/dash/sliders/ws" in config["wsUrl"]


def test_the_template_tag_emits_what_server_document_and_server_session_return() -> None:
    # docs/howto/embedding.md: "In Python, server_document(...) returns the same HTML" as
    # the tag; server_session(app, sid) as the tag's session_id=.
    template = Template(
        '{% load docsync %}{% docsync_app "sliders" "one" arguments=args %}|'
        '{% docsync_app "sliders" "two" session_id=sid %}'
    )
    tag_document, tag_session = template.render(Context({"args": {"region": "west"}, "sid": "s-1"})).split("|")
    assert tag_document == server_document("sliders", arguments={"region": "west"}, element_id="one")
    assert tag_session == server_session("sliders", "s-1", element_id="two")
