"""Settings of the browser tests: the demo site, plus a shared sliders app and test apps."""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {
        **_DOCSYNC["APPS"],
        # One sliders document per ?room=: two tabs drag the same slider.
        "shared_sliders": {"app": "project.examples.sliders", "shared": True},
        "table_stream": "tests.e2e.apps.table_stream",
        "widgets": "tests.e2e.apps.widgets",
        "uploads": "tests.e2e.widget_apps.uploads",
        "layouts": "tests.e2e.widget_apps.layouts",
        "big_table": "tests.e2e.widget_apps.big_table",
        "form_rows": "tests.e2e.widget_apps.form_rows",
        # The app's own theme, whatever the browser prefers.
        "sliders_dark": {"app": "project.examples.sliders", "theme": "dark"},
        "stepped": "tests.e2e.apps.stepped",
        "typed": "tests.e2e.apps.typed",
        "arguments": "tests.e2e.apps.arguments",
        "callback_fails": "tests.apps_shared.callback_fails",
        "never_builds": "tests.apps_shared.modify_fails",
        "reattach": "tests.apps_shared.reattach",
        "resume_room": {"app": "tests.e2e.apps.resume_room", "shared": True},
        # Cards a page's code reorders and moves, seen by every page of the room (test_client_moves.py).
        "cards_room": {"app": "tests.e2e.reorder_apps.cards_room_app", "shared": True},
        "big_frame": "tests.e2e.apps.big_frame",
        "plot_tools": "tests.e2e.plot_apps.plot_tools",
        "datetime_axes": "tests.e2e.plot_apps.datetime_axes",
        "datetime_objects": "tests.e2e.plot_apps.datetime_objects",
        "plotting_doc": "tests.e2e.plot_apps.plotting_doc",
        "whiskers": "tests.e2e.plot_apps.whiskers",
        "heads": "tests.e2e.plot_apps.heads",
    },
    # A session whose app fails is tried again sooner than by default (1, 2, 4, 8 s).
    "SESSION_RETRY_BACKOFF": [0.2, 0.2, 0.2, 0.2],
}
