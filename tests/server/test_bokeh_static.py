"""Static files of Bokeh apps: a directory app's, as its ``bokeh serve`` template names them; BokehJS.

Bokeh serves an app's page at ``/<app>`` (no trailing slash), so its templates name their
files ``<app>/static/...`` relative to the page (Bokeh's own examples do). docsync's page
is ``<prefix><app>/``: the same relative URL arrives as ``<prefix><app>/<app>/static/...``
and answered 404, so a migrated app lost its stylesheet, scripts and images.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client, override_settings

from docsync.server.registry import SessionRegistry, get_registry, set_registry

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")


@pytest.fixture
def client() -> Iterator[Client]:
    from tests.bokeh import settings as bokeh_settings

    previous = get_registry()
    set_registry(SessionRegistry())
    try:
        with override_settings(ROOT_URLCONF="tests.bokeh.prefix_urls", DOCSYNC=bokeh_settings.DOCSYNC):
            yield Client()
    finally:
        set_registry(previous)


def test_the_bokeh_serve_relative_url_of_a_static_file_is_served(client: Client) -> None:
    own = client.get("/dash/bk_lifecycle/static/style.css")
    as_bokeh_names_it = client.get("/dash/bk_lifecycle/bk_lifecycle/static/style.css")
    assert own.status_code == as_bokeh_names_it.status_code == 200
    assert as_bokeh_names_it.content == own.content


def test_only_the_app_s_own_name_repeats(client: Client) -> None:
    assert client.get("/dash/bk_lifecycle/bk_stocks/static/style.css").status_code == 404
    assert client.get("/dash/bk_lifecycle/bk_lifecycle/static/nope.css").status_code == 404


def test_bokehjs_is_not_streamed_from_a_sync_iterator(client: Client) -> None:
    # Under uvicorn Django warned "StreamingHttpResponse must consume synchronous
    # iterators" on a migrated site's first Bokeh page: BokehJS was a FileResponse.
    response = client.get("/dash/docsync-bokeh/static/js/bokeh.min.js")
    assert response.status_code == 200
    assert not response.streaming
    assert response["Content-Type"] == "text/javascript"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response.content.startswith(b"/*") or len(response.content) > 100_000
