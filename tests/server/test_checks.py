"""``manage.py check`` names a misconfigured docsync app, with the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from docsync.checks import check_settings
from docsync.site_checks import check_site

from .settings import TEST_APPS


def _check_output(apps: dict[str, str]) -> str:
    with override_settings(DOCSYNC={"APPS": apps}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    return str(raised.value)


def test_unimportable_app_is_reported_as_e001() -> None:
    text = _check_output({"sliders": "project.examples.sliders", "ghost": "tests.server.no_such_module"})
    assert "docsync.E001" in text
    assert "docsync app 'ghost' cannot be loaded: ImportError" in text
    assert "no_such_module" in text
    assert "Fix DOCSYNC['APPS']['ghost']" in text
    # The hint names the convention the README's example follows: a module with modify_doc(doc).
    assert "the dotted path of a module defining modify_doc(doc)" in text
    assert "'sliders'" not in text  # the working app is not blamed


def test_app_in_a_missing_package_is_reported_as_e001() -> None:
    text = _check_output({"lost": "project.no_such_package.app"})
    assert "docsync.E001" in text
    assert "docsync app 'lost' cannot be loaded: ModuleNotFoundError: No module named 'project.no_such_package'" in text


def test_app_with_a_syntax_error_is_reported_as_e001() -> None:
    text = _check_output({"broken": TEST_APPS["syntax_error"]})
    assert "docsync.E001" in text
    assert "docsync app 'broken' cannot be loaded: SyntaxError" in text


def test_a_sound_configuration_passes() -> None:
    with override_settings(DOCSYNC={"APPS": {"sliders": "project.examples.sliders", "ticker": TEST_APPS["ticker"]}}):
        call_command("check")


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"MAX_COLUMN_BYTES": 32 << 20}, "DOCSYNC['MAX_COLUMN_BYTES'] is larger than DOCSYNC['MAX_FRAME_BYTES']"),
        ({"MAX_DOCUMENT_BYTES": 1 << 20, "MAX_MESSAGE_BYTES": 1 << 19}, "DOCSYNC['MAX_DOCUMENT_BYTES'] is larger"),
    ],
)
def test_document_bounds_beyond_the_wire_limits_are_reported_as_e007(limits: dict[str, int], named: str) -> None:
    with override_settings(DOCSYNC={"APPS": {}, **limits}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert "docsync.E007" in str(raised.value) and named in str(raised.value)
    with override_settings(DOCSYNC={"APPS": {}, "MAX_COLUMN_BYTES": 1 << 20, "MAX_DOCUMENT_BYTES": 1 << 25}):
        call_command("check")


def test_a_clients_incomplete_share_below_the_largest_message_is_reported_as_e021() -> None:
    # Its last frames would be refused 1013 every time: retried, refused again, for ever.
    limits = {"MAX_MESSAGE_BYTES": 1 << 20, "MAX_DOCUMENT_BYTES": 1 << 19}
    with (
        override_settings(DOCSYNC={"APPS": {}, **limits, "MAX_INCOMPLETE_BYTES_PER_CLIENT": (1 << 20) - 1}),
        pytest.raises(SystemCheckError) as raised,
    ):
        call_command("check")
    assert "docsync.E021" in str(raised.value)
    assert "DOCSYNC['MAX_INCOMPLETE_BYTES_PER_CLIENT'] (1048575) is smaller than" in str(raised.value)
    for share in (1 << 20, None):  # one largest message fits; no limit
        with override_settings(DOCSYNC={"APPS": {}, **limits, "MAX_INCOMPLETE_BYTES_PER_CLIENT": share}):
            call_command("check")


def test_a_process_incomplete_room_below_the_largest_message_is_reported_as_e025() -> None:
    # The process-wide bound refuses such a message's last frames on an idle server too.
    limits = {"MAX_MESSAGE_BYTES": 1 << 20, "MAX_DOCUMENT_BYTES": 1 << 19, "MAX_INCOMPLETE_BYTES_PER_CLIENT": None}
    with (
        override_settings(DOCSYNC={"APPS": {}, **limits, "MAX_INCOMPLETE_BYTES": (1 << 20) - 1}),
        pytest.raises(SystemCheckError) as raised,
    ):
        call_command("check")
    assert "docsync.E025" in str(raised.value)
    assert "DOCSYNC['MAX_INCOMPLETE_BYTES'] (1048575) is smaller than" in str(raised.value)
    with override_settings(DOCSYNC={"APPS": {}, **limits, "MAX_INCOMPLETE_BYTES": 1 << 20}):
        call_command("check")


def test_frames_above_uvicorns_default_limit_are_reported_as_w008() -> None:
    apps = {"sliders": "project.examples.sliders"}
    with override_settings(DOCSYNC={"APPS": apps, "MAX_FRAME_BYTES": 32 * 1024 * 1024}):
        messages = check_settings()
    (warning,) = [m for m in messages if m.id == "docsync.W008"]
    assert "start uvicorn with --ws-max-size 33554432" in warning.hint.lower()
    with override_settings(DOCSYNC={"APPS": apps, "MAX_FRAME_BYTES": 16 * 1024 * 1024}):
        assert not [m for m in check_settings() if m.id == "docsync.W008"]


def test_a_document_bound_above_the_snapshot_bound_with_persistence_is_reported_as_w010() -> None:
    apps = {"sliders": "project.examples.sliders"}
    big = {"APPS": apps, "PERSISTENCE": "database", "MAX_MESSAGE_BYTES": 256 * 1024 * 1024}
    with override_settings(DOCSYNC=big):
        (warning,) = [m for m in check_settings() if m.id == "docsync.W010"]
    assert "to 134217728 bytes" in warning.msg and "(67108864)" in warning.msg
    assert "Set MAX_DOCUMENT_BYTES to at most 67108864" in warning.hint
    for fine in (
        {"APPS": apps, "PERSISTENCE": "database"},  # the defaults: 32 MiB of 64
        {**big, "PERSISTENCE": None},  # nothing is snapshotted
        {**big, "MAX_DOCUMENT_BYTES": 64 * 1024 * 1024},
    ):
        with override_settings(DOCSYNC=fine):
            assert not [m for m in check_settings() if m.id == "docsync.W010"], fine


def test_an_unknown_theme_is_reported_as_e009() -> None:
    apps = {"sliders": {"app": "project.examples.sliders", "theme": "Dark"}}
    with override_settings(DOCSYNC={"APPS": apps, "THEME": "night"}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    text = str(raised.value)
    assert "docsync.E009" in text
    assert "DOCSYNC['THEME'] is 'night', not a theme docsync draws." in text
    assert "DOCSYNC['APPS']['sliders']['theme'] is 'Dark', not a theme docsync draws." in text
    with override_settings(DOCSYNC={"APPS": {"sliders": {"app": "project.examples.sliders", "theme": "dark"}}}):
        call_command("check")


def test_an_unknown_app_kind_is_reported_as_e012_naming_the_kinds() -> None:
    apps = {"s": {"app": "project.examples.sliders", "kind": "bokeh2"}}
    with override_settings(DOCSYNC={"APPS": apps}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    text = str(raised.value)
    assert "docsync.E012" in text
    assert "unknown application kind 'bokeh2' (known: bokeh, docsync)" in text
    with override_settings(DOCSYNC={"APPS": {"s": {"app": "project.examples.sliders", "kind": "docsync"}}}):
        call_command("check")


def test_an_unknown_push_rule_is_reported_as_e009() -> None:
    with override_settings(DOCSYNC={"APPS": {"s": {"app": "project.examples.sliders", "push": "everyone"}}}):
        errors = [m for m in check_settings() if m.id == "docsync.E010"]
    assert len(errors) == 1 and "unknown push rule 'everyone'" in errors[0].msg
    with override_settings(DOCSYNC={"APPS": {"s": {"app": "project.examples.sliders", "push": "staff"}}}):
        assert not [m for m in check_settings() if m.id == "docsync.E010"]


def test_an_unknown_default_access_rule_is_reported_as_e016() -> None:
    # The page of every app without its own rule answered 500 (ValueError: unknown access rule).
    apps = {"sliders": "project.examples.sliders"}
    with override_settings(DOCSYNC={"APPS": apps, "ACCESS": "logged_in"}):
        errors = [m for m in check_settings() if m.id == "docsync.E016"]
    assert len(errors) == 1 and errors[0].msg == "DOCSYNC['ACCESS'] is an unknown access rule 'logged_in'."
    with override_settings(DOCSYNC={"APPS": apps, "ACCESS": "login_required"}):
        assert not [m for m in check_settings() if m.id == "docsync.E016"]


def test_an_app_name_that_is_no_url_segment_is_reported_as_e017() -> None:
    # Listed on the index but answered 404: the routes match one segment of letters, digits, _ and -.
    apps = {"x y": "project.examples.sliders", "a/b": "project.examples.sliders", "ok-1_2": "project.examples.sliders"}
    with override_settings(DOCSYNC={"APPS": apps}):
        named = sorted(m.msg.split("'")[3] for m in check_settings() if m.id == "docsync.E017")
    assert named == ["a/b", "x y"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_SESSIONS_PER_CLIENT", -1),
        ("MAX_SESSIONS_PER_CLIENT", 0),
        ("MAX_SESSIONS_PER_CLIENT", 2.5),
        ("MAX_SESSIONS_PER_CLIENT", "100"),
        ("MAX_SESSIONS_PER_CLIENT", True),
        ("MAX_CONNECTIONS_PER_CLIENT", -5),
        ("MAX_CONNECTIONS_PER_CLIENT", "none"),
        ("MAX_SESSIONS", None),
        ("MAX_CONNECTIONS_PER_SESSION", 0),
        ("MAX_CONNECTIONS_PER_SESSION_PER_CLIENT", 0),
        ("MAX_CONNECTIONS_PER_SESSION_PER_CLIENT", "16"),
        ("MAX_CONNECTIONS_PER_SESSION_PER_CLIENT", 4.0),
        ("MAX_INCOMPLETE_BYTES_PER_CLIENT", 0),
        ("MAX_INCOMPLETE_BYTES_PER_CLIENT", "64M"),
        ("MAX_QUEUED_BYTES_PER_CLIENT", 0),
        ("MAX_QUEUED_BYTES_PER_CLIENT", 64.0 * 1024 * 1024),
        ("MAX_DOCUMENT_BYTES_PER_CLIENT", 0),
        ("MAX_DOCUMENT_BYTES_PER_CLIENT", "256M"),
        ("MAX_FRAME_VALUES", 0),
        ("MAX_FRAME_VALUES", None),
        ("MAX_FRAME_VALUES", 2e6),
    ],
)
def test_a_count_limit_that_is_no_whole_number_of_at_least_one_is_reported_as_e018(name: str, value: object) -> None:
    # A string made every session's opening raise a TypeError (1011); 0 refused everyone.
    with override_settings(DOCSYNC={"APPS": {}, name: value}):
        errors = [m for m in check_settings() if m.id == "docsync.E018"]
    assert [e.msg for e in errors] == [f"DOCSYNC[{name!r}] is {value!r}: not a whole number of at least 1."]


def test_the_client_limits_may_be_turned_off_with_none() -> None:
    limits = {
        "MAX_SESSIONS_PER_CLIENT": None,
        "MAX_CONNECTIONS_PER_CLIENT": None,
        "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": None,
        "MAX_INCOMPLETE_BYTES_PER_CLIENT": None,
        "MAX_QUEUED_BYTES_PER_CLIENT": None,
        "MAX_DOCUMENT_BYTES_PER_CLIENT": None,
    }
    with override_settings(DOCSYNC={"APPS": {}, **limits}):
        assert not [m for m in check_settings() if m.id == "docsync.E018"]
    with override_settings(DOCSYNC={"APPS": {}, "MAX_SESSIONS_PER_CLIENT": 1, "MAX_CONNECTIONS_PER_CLIENT": 10**6}):
        assert not [m for m in check_settings() if m.id == "docsync.E018"]
    with override_settings(DOCSYNC={"APPS": {}}):  # the defaults
        assert not [m for m in check_settings() if m.id == "docsync.E018"]


@pytest.mark.parametrize("value", [-1, -0.5, "2", True, float("nan"), float("inf"), [2]])
def test_a_new_session_rate_that_is_no_number_of_at_least_zero_is_reported_as_e022(value: object) -> None:
    # A string made every new session's open raise a TypeError (1011) instead of a refusal (4029).
    with override_settings(DOCSYNC={"APPS": {}, "NEW_SESSIONS_PER_CLIENT_PER_SECOND": value}):
        errors = [m for m in check_settings() if m.id == "docsync.E022"]
    assert [e.msg for e in errors] == [
        f"DOCSYNC['NEW_SESSIONS_PER_CLIENT_PER_SECOND'] is {value!r}: not a number of at least 0."
    ]


@pytest.mark.parametrize("value", [0, -3, 1.5, "60", None, True])
def test_a_new_session_burst_that_is_no_whole_number_of_at_least_one_is_reported_as_e018(value: object) -> None:
    # A burst of 0 refused every new session while the rate seemed to allow some.
    with override_settings(DOCSYNC={"APPS": {}, "NEW_SESSIONS_PER_CLIENT_BURST": value}):
        errors = [m for m in check_settings() if m.id == "docsync.E018"]
    assert [e.msg for e in errors] == [
        f"DOCSYNC['NEW_SESSIONS_PER_CLIENT_BURST'] is {value!r}: not a whole number of at least 1."
    ]


@pytest.mark.parametrize("rate", [0, 0.0, None, 2, 0.25])
def test_a_new_session_rate_of_zero_none_or_a_number_is_accepted(rate: object) -> None:
    with override_settings(DOCSYNC={"APPS": {}, "NEW_SESSIONS_PER_CLIENT_PER_SECOND": rate}):
        assert not [m for m in check_settings() if m.id in ("docsync.E018", "docsync.E022")]


@pytest.mark.parametrize(
    "name",
    [
        "MAX_PATCHES_PER_SECOND_PER_CLIENT",
        "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT",
        "MAX_VALUES_PER_SECOND_PER_CLIENT",
    ],
)
@pytest.mark.parametrize("value", [-1, "1000", True, float("nan"), float("inf")])
def test_a_clients_message_rate_that_is_no_number_of_at_least_zero_is_reported_as_e022(
    name: str, value: object
) -> None:
    # A string made every message of every socket raise a TypeError (1011) instead of being counted.
    with override_settings(DOCSYNC={"APPS": {}, name: value}):
        errors = [m for m in check_settings() if m.id == "docsync.E022"]
    assert [e.msg for e in errors] == [f"DOCSYNC[{name!r}] is {value!r}: not a number of at least 0."]


@pytest.mark.parametrize(
    "name", ["MAX_PATCHES_PER_CLIENT_BURST", "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST", "MAX_VALUES_PER_CLIENT_BURST"]
)
@pytest.mark.parametrize("value", [0, 2.5, "500", None])
def test_a_clients_message_burst_that_is_no_whole_number_is_reported_as_e018(name: str, value: object) -> None:
    # A burst of 0 refused every socket of every client at its first message.
    with override_settings(DOCSYNC={"APPS": {}, name: value}):
        errors = [m for m in check_settings() if m.id == "docsync.E018"]
    assert [e.msg for e in errors] == [f"DOCSYNC[{name!r}] is {value!r}: not a whole number of at least 1."]


@pytest.mark.parametrize(
    ("per_client", "warned"),
    [
        ({}, False),  # the defaults: 1000 at once, then 500 per second, over a connection's 200
        ({"MAX_PATCHES_PER_SECOND_PER_CLIENT": None}, False),
        ({"MAX_PATCHES_PER_SECOND_PER_CLIENT": 0}, False),
        ({"MAX_PATCHES_PER_SECOND_PER_CLIENT": 200, "MAX_PATCHES_PER_CLIENT_BURST": 200}, False),
        ({"MAX_PATCHES_PER_SECOND_PER_CLIENT": 150}, True),
        ({"MAX_PATCHES_PER_CLIENT_BURST": 150}, True),
    ],
)
def test_a_clients_message_bucket_below_one_connections_rate_is_warned_as_w012(
    per_client: dict[str, object], warned: bool
) -> None:
    # docsync's clients pace each socket to MAX_PATCHES_PER_SECOND: below it, one such socket is closed 4029.
    with override_settings(DOCSYNC={"APPS": {}, "MAX_PATCHES_PER_SECOND": 200, **per_client}):
        warnings = [m for m in check_settings() if m.id == "docsync.W012"]
    assert len(warnings) == warned
    assert all("may be closed 4029" in w.msg for w in warnings)


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({}, False),  # the defaults: 2,500,000 at once, two frames at MAX_FRAME_VALUES (1,100,000)
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_100_000}, False),  # one such frame
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_099_999}, True),
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_000, "MAX_FRAME_VALUES": 1_000}, False),
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_000, "MAX_VALUES_PER_SECOND_PER_CLIENT": None}, False),  # off
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_000, "MAX_VALUES_PER_SECOND_PER_CLIENT": 0}, False),
        ({"MAX_VALUES_PER_CLIENT_BURST": 1_000, "MAX_VALUES_PER_SECOND_PER_CLIENT": 50_000.0}, True),
    ],
)
def test_a_clients_values_burst_below_one_frames_bound_is_reported_as_e027(
    values: dict[str, object], refused: bool
) -> None:
    # A frame's values are taken at once: below MAX_FRAME_VALUES, a frame that limit lets through is closed 4029 always.
    with override_settings(DOCSYNC={"APPS": {}, **values}):
        errors = [m for m in check_settings() if m.id == "docsync.E027"]
    assert [e.msg for e in errors] == (
        [
            f"DOCSYNC['MAX_VALUES_PER_CLIENT_BURST'] ({values['MAX_VALUES_PER_CLIENT_BURST']}) is smaller than "
            "DOCSYNC['MAX_FRAME_VALUES'] (1100000): a client's frame with as many values as that limit allows "
            "could never be taken."
        ]
        if refused
        else []
    )


@pytest.mark.parametrize(
    ("frames", "refused"),
    [
        ({}, False),  # the defaults: 20,000 at once, ten messages of MAX_BUFFERS (1,024) buffers
        ({"MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 2_051}, False),  # one such message: 3 + 2 x 1,024 frames
        ({"MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 2_050}, True),
        ({"MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 19, "MAX_BUFFERS": 8}, False),
        ({"MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 100, "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": None}, False),
        ({"MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 100, "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": 0}, False),
    ],
)
def test_a_clients_frames_burst_below_one_largest_messages_frames_is_reported_as_e028(
    frames: dict[str, object], refused: bool
) -> None:
    # A read's frames are charged at once: below one largest message's, it could be refused always.
    with override_settings(DOCSYNC={"APPS": {}, **frames}):
        errors = [m for m in check_settings() if m.id == "docsync.E028"]
    assert [e.msg for e in errors] == (
        [
            f"DOCSYNC['MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST'] ({frames['MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST']}) is "
            "smaller than the frames of one message with DOCSYNC['MAX_BUFFERS'] (1024) buffers (2051): such a "
            "message could be refused every time it is sent."
        ]
        if refused
        else []
    )


@pytest.mark.parametrize("value", [0, -5, 1.5, "100", True])
def test_a_frames_burst_that_is_no_whole_number_is_reported_as_e018(value: object) -> None:
    with override_settings(DOCSYNC={"APPS": {}, "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": value}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E018"]
    assert errors == [
        f"DOCSYNC['MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST'] is {value!r}: not a whole number of at least 1."
    ]


@pytest.mark.parametrize("value", [-1.0, "10", True, float("inf")])
def test_a_frames_rate_that_is_no_number_is_reported_as_e022(value: object) -> None:
    with override_settings(DOCSYNC={"APPS": {}, "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": value}):
        errors = [m.msg for m in check_settings() if m.id == "docsync.E022"]
    assert errors == [
        f"DOCSYNC['MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT'] is {value!r}: not a number of at least 0."
    ]


@pytest.mark.parametrize("name", ["CHECK_UNUSED_SESSIONS", "PROCESS_TIMEOUT", "SNAPSHOT_INTERVAL", "SNAPSHOT_LIFETIME"])
@pytest.mark.parametrize("value", [0, -1.0, "60", None, True, float("inf"), float("nan")])
def test_a_loop_period_that_is_no_positive_number_is_reported_as_e023(name: str, value: object) -> None:
    # A SNAPSHOT_LIFETIME of 0 made the snapshot writer sleep(0) forever, never writing again.
    with override_settings(DOCSYNC={"APPS": {}, name: value}):
        errors = [m for m in check_settings() if m.id == "docsync.E023"]
    assert [e.msg for e in errors] == [f"DOCSYNC[{name!r}] is {value!r}: not a number of seconds above 0."]


@pytest.mark.parametrize("value", [0.2, 1, 86400.0])
def test_a_positive_loop_period_is_accepted(value: object) -> None:
    periods = ("CHECK_UNUSED_SESSIONS", "PROCESS_TIMEOUT", "SNAPSHOT_INTERVAL", "SNAPSHOT_LIFETIME")
    with override_settings(DOCSYNC={"APPS": {}, **dict.fromkeys(periods, value)}):
        assert not [m for m in check_settings() if m.id == "docsync.E023"]


@pytest.mark.parametrize(
    ("application", "named"),
    [
        ("tests.server.asgi_variants.django_only", "is Django's own ASGI handler, which serves HTTP only"),
        ("tests.server.asgi_variants.no_websocket", "routes no 'websocket'"),
        ("tests.server.asgi_variants.missing", "cannot be imported: ImportError"),
    ],
)
def test_an_asgi_application_that_serves_no_websocket_is_reported_as_e024(application: str, named: str) -> None:
    # Django's own check passes an asgi.py left as startproject wrote it: every page loads,
    # and each app's page said "reconnecting…" for ever.
    with override_settings(ASGI_APPLICATION=application), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    text = str(raised.value)
    assert "docsync.E024" in text and f"ASGI_APPLICATION {application!r} {named}" in text
    assert text.count("docsync.E024") == 1


def test_the_demo_sites_asgi_application_routes_websockets() -> None:
    assert [m.id for m in check_site() if m.id == "docsync.E024"] == []


@pytest.mark.parametrize("rule", ["login_required", "staff", "perm:auth.view_user", {"permission": "auth.view_user"}])
def test_a_login_rule_with_no_login_page_is_reported_as_w009(rule: object) -> None:
    apps = {"mine": {"app": "project.examples.sliders", "access": rule}, "open": "project.examples.sliders"}
    with override_settings(DOCSYNC={"APPS": apps}, LOGIN_URL="/accounts/login/"):
        warnings = [m for m in check_site() if m.id == "docsync.W009"]
    assert len(warnings) == 1
    assert warnings[0].msg.startswith("docsync app 'mine' sends anonymous visitors to LOGIN_URL ('/accounts/login/')")
    assert "include('django.contrib.auth.urls')" in str(warnings[0].hint)


@pytest.mark.parametrize(
    ("login_url", "access"),
    [
        ("/admin/login/", "login_required"),  # served by the admin
        ("admin:login", "login_required"),  # a URL name
        ("https://login.example.com/", "staff"),  # another host's
        ("/accounts/login/", "public"),  # nobody is sent there
        ("/accounts/login/", "callable:tests.server.test_checks.anyone"),  # the site's code decides
    ],
)
def test_a_served_login_page_or_no_login_rule_passes_w009(login_url: str, access: str) -> None:
    apps = {"mine": {"app": "project.examples.sliders", "access": access}}
    with override_settings(DOCSYNC={"APPS": apps}, LOGIN_URL=login_url):
        assert [m for m in check_site() if m.id == "docsync.W009"] == []


def test_the_default_access_rule_counts_for_w009() -> None:
    with override_settings(DOCSYNC={"APPS": {"a": "project.examples.sliders"}, "ACCESS": "login_required"},
                           LOGIN_URL="no-such-url-name"):  # fmt: skip
        warnings = [m for m in check_site() if m.id == "docsync.W009"]
    assert [w.msg.split(" sends")[0] for w in warnings] == ["docsync app 'a'"]


def anyone(user: object, app_path: str) -> bool:
    """An access rule that admits everyone (the check does not run it)."""
    return True


def test_a_module_that_is_not_there_is_named_as_a_module_too() -> None:
    # A typo in a module's name was reported as 'Module "project.examples" does not define a
    # "slidrs" attribute/class', as if an attribute had been meant.
    text = _check_output({"typo": "project.examples.slidrs"})
    assert (
        "docsync app 'typo' cannot be loaded: ImportError: no module named 'project.examples.slidrs', and module "
        "'project.examples' defines no 'slidrs' (a function or Application)"
    ) in text


@pytest.mark.parametrize(
    ("entry", "what"), [("no_such_dir/app.py", "app"), ({"app": "no_such_dir/app.py", "kind": "bokeh"}, "Bokeh app")]
)
def test_a_relative_app_path_that_is_not_there_says_where_it_was_looked_for(entry: object, what: str) -> None:
    # Read from the server's current directory: started from another folder, a server
    # found nothing where runserver in the project had, and the error did not say why.
    with override_settings(DOCSYNC={"APPS": {"rel": entry}}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    assert (
        f"docsync app 'rel' cannot be loaded: FileNotFoundError: no {what} at no_such_dir/app.py (a relative "
        f"path: read from the server's current directory, {Path.cwd()}; give an absolute one, e.g. "
        "BASE_DIR / 'no_such_dir/app.py')"
    ) in str(raised.value)


def test_an_absolute_app_path_that_is_not_there_is_named(tmp_path: Path) -> None:
    text = _check_output({"gone": str(tmp_path / "gone.py")})
    assert f"docsync app 'gone' cannot be loaded: FileNotFoundError: no app at {tmp_path / 'gone.py'}" in text
    assert "relative" not in text


def test_a_callable_rule_that_cannot_be_imported_is_reported() -> None:
    # A misspelt "callable:" path passed the checks, and every page of the app answered 500 (ImportError).
    apps = {
        "typo": {"app": "project.examples.sliders", "access": "callable:os.path.nosuchfunction"},
        "module": {"app": "project.examples.sliders", "access": "callable:no_such_module.rule"},
        "value": {"app": "project.examples.sliders", "access": "callable:os.sep"},
        "push": {"app": "project.examples.sliders", "push": "callable:os.path.nosuchfunction"},
        "fine": {
            "app": "project.examples.sliders",
            "access": "callable:os.path.isabs",
            "push": "callable:os.path.isabs",
        },
    }
    with override_settings(DOCSYNC={"APPS": apps, "ACCESS": "callable:os.path.nosuch"}):
        messages = {
            (m.id, m.msg.split("'")[1]): m.msg
            for m in check_settings()
            if m.id in ("docsync.E006", "docsync.E010", "docsync.E016")
        }
    assert sorted(messages) == [
        ("docsync.E006", "module"),
        ("docsync.E006", "typo"),
        ("docsync.E006", "value"),
        ("docsync.E010", "push"),
        ("docsync.E016", "ACCESS"),
    ]
    assert messages[("docsync.E006", "typo")] == (
        "docsync app 'typo' has an access rule 'callable:os.path.nosuchfunction' that cannot be used: "
        'ImportError: Module "os.path" does not define a "nosuchfunction" attribute/class'
    )
    assert messages[("docsync.E006", "value")].endswith("cannot be used: os.sep is not callable")


def test_a_site_with_no_asgi_application_is_reported_as_e002() -> None:
    # docs/howto/migrate-panel.md: a site whose runserver was Panel's may have no
    # ASGI_APPLICATION, and "manage.py check says so, docsync.E002".
    with override_settings(ASGI_APPLICATION=None), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    text = str(raised.value)
    assert "docsync.E002" in text and "ASGI_APPLICATION is not set." in text
    assert "docsync.routing.websocket_urlpatterns" in text  # the hint says what to set it to
    assert [m.id for m in check_settings() if m.id == "docsync.E002"] == []  # this site has one


def test_an_unknown_key_in_an_apps_dict_is_reported_as_e026() -> None:
    # A misspelt "access" was ignored: the app meant for staff was served to everyone.
    apps = {
        "report": {"app": "project.examples.sliders", "acess": "staff"},
        "room": {"app": "project.examples.sliders", "shared": True, "colour": "red"},
        "ok": {"app": "project.examples.sliders", "access": "staff", "shareable": True, "theme": "dark"},
        "plain": "project.examples.sliders",
    }
    with override_settings(DOCSYNC={"APPS": apps}):
        messages = [m.msg for m in check_settings() if m.id == "docsync.E026"]
    assert messages == [
        "DOCSYNC['APPS']['report'] has an unknown key 'acess' (did you mean 'access'?).",
        "DOCSYNC['APPS']['room'] has an unknown key 'colour'.",
    ]


def test_a_urlconf_that_does_not_include_docsyncs_urls_is_reported_as_w011() -> None:
    # Every check passed and every app's page was a 404: the README's urls.py step was missed.
    apps = {"sliders": "project.examples.sliders"}
    with override_settings(DOCSYNC={"APPS": apps}, ROOT_URLCONF="tests.server.urls_without_docsync"):
        warnings = [m for m in check_site() if m.id == "docsync.W011"]
    assert len(warnings) == 1 and "No URL pattern of ROOT_URLCONF includes docsync.urls" in warnings[0].msg
    assert "include('docsync.urls')" in str(warnings[0].hint)
    with override_settings(DOCSYNC={"APPS": apps}):  # the demo site's urls.py includes them
        assert [m for m in check_site() if m.id == "docsync.W011"] == []
    with override_settings(DOCSYNC={"APPS": {}}, ROOT_URLCONF="tests.server.urls_without_docsync"):
        assert [m for m in check_site() if m.id == "docsync.W011"] == []  # no app: nothing to serve
