"""Settings of the hardening and admin tests: the demo site, access-rule apps, low limits.

Servers run with ``DJANGO_SETTINGS_MODULE=tests.hardening.settings``; ``DJANGO_DEBUG``
and the ``DOCSYNC_<SETTING>`` variables of ``project.settings`` vary them per server.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import DOCSYNC as _DOCSYNC
from tests.hardening.apps import only_staffer

_LIMITS = "tests.hardening.apps.limits"

ACCESS_APPS = {
    "rule_public": {"app": _LIMITS, "access": "public"},
    "rule_login": {"app": _LIMITS, "access": "login_required"},
    "rule_staff": {"app": _LIMITS, "access": "staff"},
    "rule_perm": {"app": _LIMITS, "access": "perm:auth.view_group"},
    "rule_perm_dict": {"app": _LIMITS, "access": {"permission": "auth.view_group"}},
    "rule_dotted": {"app": _LIMITS, "access": "callable:tests.hardening.apps.only_alice"},
    "rule_callable": {"app": _LIMITS, "access": only_staffer},
}

TEST_APPS = {
    **ACCESS_APPS,
    # Joining by ?session_id=: a login app's sessions are their user's; this one's are shareable.
    # PUSH-DOC: only a client creating its session, as a user the "push" rule allows.
    "pushable": {"app": _LIMITS, "push": "login_required"},
    "own_sessions": {"app": "tests.hardening.apps.who_changed", "access": "login_required"},
    "shareable_sessions": {"app": "tests.hardening.apps.who_changed", "access": "login_required", "shareable": True},
    # The same with an async callback (docs/howto/access.md: session_context.user is the acting user).
    "shareable_async": {"app": "tests.hardening.apps.who_changed_async", "access": "login_required", "shareable": True},
    # The same, public: every anonymous visitor is AnonymousUser, told apart by their browser.
    "anon_sessions": "tests.hardening.apps.who_changed",
    "anon_shareable": {"app": "tests.hardening.apps.who_changed", "shareable": True},
    # An app entry's "allow_join" and "title" (tests/hardening/test_app_entry_options.py).
    "no_joining": {"app": "tests.hardening.apps.who_changed", "allow_join": False},
    "no_joining_shareable": {"app": "tests.hardening.apps.who_changed", "shareable": True, "allow_join": False},
    "titled": {"app": _LIMITS, "title": "Ledger <of> limits"},
    "all_models": "tests.hardening.apps.all_models",
    "limits": _LIMITS,
    "echo": "tests.hardening.apps.echo",
    "holding": "tests.hardening.apps.holding",
    "empty_array": "tests.hardening.apps.empty_array",
    "streamed": "tests.hardening.apps.streamed",
    "failing": "tests.apps_shared.modify_fails",
    "broken": "tests.hardening.broken_app",
    # Anyone creating a session of these may push (the pushed content obeys every rule).
    "hostile": {"app": "tests.hardening.apps.hostile", "push": "public"},
    "hostile_closed": {"app": "tests.hardening.apps.hostile_closed", "push": "public"},
    # A document of 456 models under one root (a patch moving the root again and again).
    "hostile_wide": "tests.hardening.apps.hostile_wide",
    # One model holding 400 KB under its root (a patch moving the root again and again sends them).
    "hostile_heavy": "tests.hardening.apps.hostile_heavy",
    # Rooms and shareable sessions of it: other users see what a client changes of its structure.
    "hostile_room": {"app": "tests.hardening.apps.hostile", "shared": True},
    "hostile_link": {"app": "tests.hardening.apps.hostile", "shareable": True},
    "hostile_open_room": {"app": "tests.hardening.apps.hostile_open", "shared": True},
    "oversized": "tests.hardening.apps.oversized",
    "offered": "tests.hardening.apps.offered",
    "bridged": "tests.hardening.bridged.bridged",
    "swapper": "tests.hardening.apps.swapper",
    "keeper": "tests.hardening.apps.keeper",
    "reattach": "tests.apps_shared.reattach",
    # More models than the admin's page of a session shows at once (tests/admin).
    "many_models": "tests.hardening.apps.many_models",
    "deep_writes": "tests.hardening.apps.deep_writes",
    # The session fuzz (test_fuzz_sessions.py): callbacks that compute with what clients send;
    # the same app where a client creating its session may push.
    "workers": "tests.hardening.apps.workers",
    "workers_pushable": {"app": "tests.hardening.apps.workers", "push": "public"},
    "threads_probe": "tests.hardening.apps.threads_probe",
    "held_sessions": "tests.hardening.apps.held_sessions",
}

ROOT_URLCONF = "tests.hardening.urls"
# Users who are not staff log in here (the admin's login takes staff only).
LOGIN_URL = "/accounts/login/"

# Test users' passwords need no strength, and logins stay fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

#: Low limits, so that exceeding them sends little.
MAX_FRAME_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BUFFERS = 8
MAX_CLIENT_MODELS = 5

DOCSYNC = {
    **_DOCSYNC,
    "APPS": {**_DOCSYNC["APPS"], **TEST_APPS},
    "MAX_FRAME_BYTES": MAX_FRAME_BYTES,
    "MAX_MESSAGE_BYTES": MAX_MESSAGE_BYTES,
    "MAX_BUFFERS": MAX_BUFFERS,
    "MAX_CLIENT_MODELS": MAX_CLIENT_MODELS,
}
