"""Settings of the hostile Bokeh-dialect tests: the Bokeh test gallery, an app that grows, low document bounds."""

from __future__ import annotations

import os

from tests.bokeh.settings import *  # noqa: F403
from tests.bokeh.settings import DOCSYNC as _BOKEH_DOCSYNC
from tests.bokeh.settings import GALLERY

ROOT_URLCONF = "tests.hardening.bokeh_urls"  # a login for the users of the shared-board tests
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # as the test users were made
BOARD = "tests.bokeh.gallery.functions:shared_board"
#: Small enough that a client reaches it in a few messages (the wire limits stay the defaults);
#: a site of its own may raise it (tests/hardening/test_bokeh_reattachments.py: a root over 3 MiB).
MAX_DOCUMENT_BYTES = int(os.environ.get("DOCSYNC_TEST_MAX_DOCUMENT_BYTES") or 2 * 1024 * 1024)
#: Models clients may create in one session.
MAX_CLIENT_MODELS = 30

DOCSYNC = {
    **_BOKEH_DOCSYNC,
    "APPS": {
        **_BOKEH_DOCSYNC["APPS"],
        "bk_grow": {"app": "tests.bokeh.gallery.functions:grows", "kind": "bokeh"},
        # An app entry's "allow_join" and "title" (tests/hardening/test_app_entry_options.py).
        "bk_no_joining": {"app": "tests.bokeh.gallery.functions:grows", "kind": "bokeh", "allow_join": False},
        "bk_titled": {"app": "tests.bokeh.gallery.functions:grows", "kind": "bokeh", "title": "Grown <here>"},
        # A PasswordInput holding a value (tests/hardening/test_bokeh_admin_secrets.py).
        "bk_password": {"app": "tests.hardening.bokeh_password:password", "kind": "bokeh"},
        # One model of each kind the dialect's fuzz test patches (tests/hardening/test_fuzz_bokeh.py).
        "bk_fuzzed": {"app": "tests.hardening.bokeh_fuzzed:fuzzed", "kind": "bokeh"},
        # Callbacks that compute with what clients send (tests/hardening/test_fuzz_bokeh_sessions.py).
        "bk_workers": {"app": "tests.hardening.bokeh_fuzzed:workers", "kind": "bokeh"},
        # Widgets that offer bounded values (tests/hardening/test_offered_bokeh.py), shared with other users.
        "bk_offered": {"app": "tests.hardening.bokeh_offered:offered", "kind": "bokeh", "shareable": True},
        # The same, opted in to browsers changing what widgets offer, as in Bokeh.
        "bk_offered_open": {
            "app": "tests.hardening.bokeh_offered:offered",
            "kind": "bokeh",
            "shareable": True,
            "client_offers": True,
        },
        # Datetime and time pickers with bounds.
        "bk_offered_times": {"app": "tests.hardening.bokeh_offered:offered_times", "kind": "bokeh", "shareable": True},
        # Widgets whose offers the app's own JavaScript changes: shared, each user's own
        # (where a browser may write code), and refusing even the app's JavaScript.
        "bk_offered_js": {"app": "tests.hardening.bokeh_offered:offered_js", "kind": "bokeh", "shareable": True},
        "bk_offered_js_own": {"app": "tests.hardening.bokeh_offered:offered_js", "kind": "bokeh"},
        "bk_offered_js_strict": {
            "app": "tests.hardening.bokeh_offered:offered_js",
            "kind": "bokeh",
            "client_offers": False,
        },
        # One board app four ways (tests/hardening/test_hostile_bokeh_html.py): shared with
        # other users, shared and opted in to browsers' HTML and code, each user's own, and
        # each user's own but refusing HTML and code.
        "bk_board": {"app": BOARD, "kind": "bokeh", "shareable": True},
        "bk_board_html": {"app": BOARD, "kind": "bokeh", "shareable": True, "client_html": True},
        "bk_board_own": {"app": BOARD, "kind": "bokeh"},
        "bk_board_strict": {"app": BOARD, "kind": "bokeh", "client_html": False},
        # Writes values as deep as a client asks (tests/hardening/test_app_value_depth_bokeh.py).
        "bk_deep": {"app": "tests.hardening.bokeh_deep:deep_writes", "kind": "bokeh"},
        # A callback that attaches a model twice (tests/hardening/test_bokeh_reattached_models.py).
        "bk_reattach": {"app": "tests.hardening.bokeh_reattach:reattach", "kind": "bokeh"},
        # A Div a client moves while another change removes it (tests/hardening/test_bokeh_crossed_removals.py).
        "bk_crossed": {"app": "tests.hardening.bokeh_crossed:crossed", "kind": "bokeh"},
        # A @without_document_lock callback (tests/hardening/test_bokeh_unlocked_callbacks.py).
        "bk_unlocked": {"app": "tests.hardening.bokeh_unlocked:unlocked", "kind": "bokeh"},
        # A document's own on_session_destroyed callback (tests/hardening/test_bokeh_session_end.py).
        "bk_session_end": {"app": "tests.hardening.bokeh_session_end:session_end", "kind": "bokeh"},
        # A directory app with static files, for staff only (tests/hardening/test_hostile_bokeh_http.py).
        "bk_lifecycle_staff": {"app": str(GALLERY / "lifecycle"), "kind": "bokeh", "access": "staff"},
    },
    "MAX_DOCUMENT_BYTES": MAX_DOCUMENT_BYTES,
    "MAX_CLIENT_MODELS": MAX_CLIENT_MODELS,
}
