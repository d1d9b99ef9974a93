"""System checks: ``manage.py check`` names what is misconfigured and how to fix it."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .conf import docsync_settings
from .limits import document_limits
from .origins import legacy_entries, parse_origin
from .server.app_loader import APP_OPTIONS, app_specs
from .server.dialects import get_dialect

__all__ = ["check_deploy", "check_settings"]

_ACCESS_WORDS = {"public", "login_required", "staff"}
#: An app's path is one URL segment, as docsync/urls.py matches it.
_APP_SEGMENT = re.compile(r"[\w\-]+")
_UVICORN_DEFAULT_WS_MAX_SIZE = 16 * 1024 * 1024  # uvicorn's --ws-max-size


def _rule_ok(rule: Any) -> bool:
    if rule is None or callable(rule):
        return True
    if isinstance(rule, dict):  # before the set lookup: a dict is unhashable
        return "permission" in rule
    return isinstance(rule, str) and (rule in _ACCESS_WORDS or rule.startswith(("perm:", "callable:")))


def _callable_problem(rule: Any) -> str | None:
    """Say why a ``"callable:dotted.path"`` rule cannot be used, or None if it can (or is no such rule)."""
    # A misspelt path passed the checks and made every page of the app a 500 (ImportError).
    if not (isinstance(rule, str) and rule.startswith("callable:")):
        return None
    try:
        func = import_string(rule.removeprefix("callable:"))
    except Exception as exc:  # ImportError, or whatever the module raises as it is imported
        return f"{type(exc).__name__}: {exc}"
    return None if callable(func) else f"{rule.removeprefix('callable:')} is not callable"


#: The Bokeh apps' True/False options: their check's id and what each value does.
_BOKEH_BOOL_OPTIONS = {
    "client_html": (
        "docsync.E015",
        "True lets browsers write HTML and code into sessions other users see, False refuses it in every "
        "session; leave it out for the default (refused only where the app is shareable or shared; docs/bokeh.md).",
    ),
    "client_offers": (
        "docsync.E019",
        "True lets browsers change what a widget offers (options, bounds, ...), False refuses it even to the "
        "app's own JavaScript; leave it out for the default (refused unless the app's own code names the "
        "property; docs/bokeh.md).",
    ),
}

_THEMES = ("light", "dark", "auto")


def _theme_errors(config: Any) -> list[checks.CheckMessage]:
    """DOCSYNC['THEME'] and each app's "theme" must name a theme docsync draws."""
    named = [("DOCSYNC['THEME']", config.THEME)]
    named += [(f"DOCSYNC['APPS'][{spec.path!r}]['theme']", spec.options["theme"]) for spec in app_specs(config.APPS)
              if "theme" in spec.options]  # fmt: skip
    return [
        checks.Error(
            f"{where} is {theme!r}, not a theme docsync draws.",
            hint="Use 'light', 'dark' or 'auto' (the browser's prefers-color-scheme).",
            id="docsync.E009",
        )
        for where, theme in named
        if theme not in _THEMES
    ]


def _snapshot_bound_warnings(config: Any) -> list[checks.CheckMessage]:
    """W010: with persistence, clients may grow a session past what a snapshot holds."""
    if config.PERSISTENCE is None:
        return []
    try:
        document = document_limits(config).max_document_bytes
        snapshot = int(config.MAX_SNAPSHOT_BYTES)
    except (TypeError, ValueError):
        return []  # a size that is no number: reported by the checks of sizes
    if document <= snapshot:
        return []
    # A session past MAX_SNAPSHOT_BYTES is never snapshotted again: every later change
    # stays in its journal (none trimmed) and every restore replays them all, so one
    # client toggling a widget grows the store without end.
    return [
        checks.Warning(
            f"Clients may grow a session's document to {document} bytes (MAX_DOCUMENT_BYTES, or half of "
            f"MAX_MESSAGE_BYTES), above DOCSYNC['MAX_SNAPSHOT_BYTES'] ({snapshot}): past it a session is not "
            "snapshotted, and every change a client then makes stays in its journal, which grows without end.",
            hint=f"Set MAX_DOCUMENT_BYTES to at most {snapshot} (below it: a snapshot holds more than the "
            "document's estimate), or raise MAX_SNAPSHOT_BYTES.",
            id="docsync.W010",
        )
    ]


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Check the DOCSYNC setting, the apps it names, and the ASGI setup."""
    errors: list[checks.CheckMessage] = []
    config = docsync_settings()
    if not getattr(settings, "ASGI_APPLICATION", None):
        errors.append(
            checks.Error(
                "ASGI_APPLICATION is not set.",
                hint="Set ASGI_APPLICATION = 'yourproject.asgi.application' routing "
                "'websocket' to docsync.routing.websocket_urlpatterns.",
                id="docsync.E002",
            )
        )
    if not getattr(settings, "CHANNEL_LAYERS", None) and config.CLUSTER:
        errors.append(
            checks.Error(
                "DOCSYNC['CLUSTER'] is on but CHANNEL_LAYERS is not set.",
                hint="Configure channels_redis.core.RedisChannelLayer in CHANNEL_LAYERS.",
                id="docsync.E003",
            )
        )
    installed = list(settings.INSTALLED_APPS)
    if "daphne" not in installed:
        errors.append(
            checks.Warning(
                "'daphne' is not in INSTALLED_APPS, so runserver cannot serve websockets.",
                hint="Put 'daphne' first in INSTALLED_APPS.",
                id="docsync.W004",
            )
        )
    if int(config.MAX_FRAME_BYTES) > _UVICORN_DEFAULT_WS_MAX_SIZE:
        errors.append(
            checks.Warning(
                f"DOCSYNC['MAX_FRAME_BYTES'] ({config.MAX_FRAME_BYTES}) is above uvicorn's default websocket "
                f"limit ({_UVICORN_DEFAULT_WS_MAX_SIZE}): under uvicorn, larger frames are refused before docsync "
                "sees them.",
                hint=f"Start uvicorn with --ws-max-size {config.MAX_FRAME_BYTES} (daphne and runserver need "
                "nothing: docsync fits their limit).",
                id="docsync.W008",
            )
        )
    errors.extend(_snapshot_bound_warnings(config))
    for key in config.unknown_keys:
        errors.append(
            checks.Error(
                f"DOCSYNC has an unknown key {key!r}.",
                hint="See the settings reference in docsync's README.",
                id="docsync.E005",
            )
        )
    errors.extend(_theme_errors(config))
    errors.extend(_app_option_errors(config.APPS))
    for spec in app_specs(config.APPS):
        try:
            application = get_dialect(spec.kind).load_application(spec.target)
        except Exception as exc:  # an unknown kind, or its extra is not installed
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} cannot be loaded: {exc}",
                    hint="Use kind 'docsync' (the default) or 'bokeh' (pip install 'docsync[bokeh]').",
                    id="docsync.E012",
                )
            )
            continue
        if application.failed:
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} cannot be loaded: {application.error}",
                    hint=f"Fix DOCSYNC['APPS'][{spec.path!r}]: the dotted path of a module defining "
                    "modify_doc(doc) (or an Application named 'app'), of such a function or Application, "
                    "or a path to a .py script, a .json document or an app directory.",
                    id="docsync.E001",
                )
            )
        if "push" in spec.options and (spec.options["push"] is None or not _rule_ok(spec.options["push"])):
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} has an unknown push rule {spec.options['push']!r}.",
                    hint="Give 'push' an access rule ('public', 'login_required', 'staff', 'perm:app.codename', "
                    "'callable:dotted.path' or a callable), or leave it out: nobody may push.",
                    id="docsync.E010",
                )
            )
        elif "push" in spec.options and (problem := _callable_problem(spec.options["push"])):
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} has a push rule {spec.options['push']!r} that cannot be used: "
                    f"{problem}",
                    hint="Give 'callable:' the dotted path of a function rule(user, app_path) -> bool.",
                    id="docsync.E010",
                )
            )
        if "push" in spec.options and spec.kind == "bokeh":
            # Bokeh's pages and server_session make a session before any websocket does, and
            # its code owns the document: nobody could push, so the rule would say nothing.
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} is a Bokeh app with a 'push' rule.",
                    hint="No client pushes a document into a Bokeh app's session (bokeh.client's push_session "
                    "included; docs/bokeh.md): leave 'push' out.",
                    id="docsync.E020",
                )
            )
        if "callbacks" in spec.options and (
            spec.kind != "bokeh" or spec.options["callbacks"] not in ("threads", "loop")
        ):
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} has 'callbacks': {spec.options['callbacks']!r}.",
                    hint="'callbacks' is for Bokeh apps ('kind': 'bokeh'): 'threads' (the default: sync code runs "
                    "in worker threads) or 'loop' (on the event loop, as bokeh serve runs it; docs/bokeh.md).",
                    id="docsync.E011",
                )
            )
        for option, (check_id, hint) in _BOKEH_BOOL_OPTIONS.items():
            if option in spec.options and (spec.kind != "bokeh" or not isinstance(spec.options[option], bool)):
                errors.append(
                    checks.Error(
                        f"docsync app {spec.path!r} has {option!r}: {spec.options[option]!r}.",
                        hint=f"{option!r} is for Bokeh apps ('kind': 'bokeh'): {hint}",
                        id=check_id,
                    )
                )
        if not _rule_ok(spec.access):
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} has an unknown access rule {spec.access!r}.",
                    hint="Use 'public', 'login_required', 'staff', 'perm:app.codename', "
                    "{'permission': ...}, 'callable:dotted.path' or a callable.",
                    id="docsync.E006",
                )
            )
        elif problem := _callable_problem(spec.access):
            errors.append(
                checks.Error(
                    f"docsync app {spec.path!r} has an access rule {spec.access!r} that cannot be used: {problem}",
                    hint="Give 'callable:' the dotted path of a function rule(user, app_path) -> bool.",
                    id="docsync.E006",
                )
            )
    errors += _limit_errors(config) + _count_errors(config) + _rate_errors(config) + _origin_errors(config)
    errors += _period_errors(config)
    errors += _metrics_errors(config) + _default_errors(config)
    return errors


def _app_option_errors(apps: Any) -> list[checks.CheckMessage]:
    # A misspelt key was ignored: {"app": ..., "acess": "staff"} served the app to everyone.
    errors: list[checks.CheckMessage] = []
    known = ", ".join(repr(k) for k in sorted(APP_OPTIONS))
    for path, entry in dict(apps or {}).items():
        if not isinstance(entry, dict):
            continue
        for key in sorted(str(k) for k in entry if k not in APP_OPTIONS):
            close = difflib.get_close_matches(key, APP_OPTIONS, n=1)
            did_you_mean = f" (did you mean {close[0]!r}?)" if close else ""
            errors.append(
                checks.Error(
                    f"DOCSYNC['APPS'][{path!r}] has an unknown key {key!r}{did_you_mean}.",
                    hint=f"An app's dict may have the keys {known}.",
                    id="docsync.E026",
                )
            )
    return errors


def _default_errors(config: Any) -> list[checks.CheckMessage]:
    # Neither was checked: an unknown ACCESS made every app page a 500 (ValueError), and
    # an app named "x y" was listed but never served (404).
    errors: list[checks.CheckMessage] = []
    if not _rule_ok(config.ACCESS):
        errors.append(
            checks.Error(
                f"DOCSYNC['ACCESS'] is an unknown access rule {config.ACCESS!r}.",
                hint="Use 'public' (the default), 'login_required', 'staff', 'perm:app.codename', "
                "'callable:dotted.path' or a callable.",
                id="docsync.E016",
            )
        )
    elif problem := _callable_problem(config.ACCESS):
        errors.append(
            checks.Error(
                f"DOCSYNC['ACCESS'] is an unknown access rule {config.ACCESS!r}: {problem}",
                hint="Give 'callable:' the dotted path of a function rule(user, app_path) -> bool.",
                id="docsync.E016",
            )
        )
    for spec in app_specs(config.APPS):
        if not _APP_SEGMENT.fullmatch(spec.path):
            errors.append(
                checks.Error(
                    f"DOCSYNC['APPS'] names an app {spec.path!r}: not a URL segment, so never served.",
                    hint="Name it with letters, digits, '_' and '-' only: the name is its URL (/<prefix><name>/).",
                    id="docsync.E017",
                )
            )
    return errors


def _metrics_errors(config: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if not _rule_ok(config.METRICS):
        errors.append(
            checks.Error(
                f"DOCSYNC['METRICS'] is an unknown access rule {config.METRICS!r}.",
                hint="Use an access rule as for apps ('staff', the default; 'perm:app.codename'; a callable) "
                "or None: only METRICS_TOKEN opens /docsync-metrics.",
                id="docsync.E013",
            )
        )
    token = config.METRICS_TOKEN
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        errors.append(
            checks.Error(
                "DOCSYNC['METRICS_TOKEN'] must be a string of at least 16 characters.",
                hint="Use a long random secret (python -c 'import secrets; print(secrets.token_urlsafe())'), or None.",
                id="docsync.E014",
            )
        )
    return errors


#: Counts that must be whole numbers of at least 1 (True: None turns the limit off).
_COUNT_LIMITS = {
    "MAX_SESSIONS": False,
    "MAX_CONNECTIONS_PER_SESSION": False,
    "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": True,
    "MAX_SESSIONS_PER_CLIENT": True,
    "MAX_CONNECTIONS_PER_CLIENT": True,
    "MAX_INCOMPLETE_BYTES_PER_CLIENT": True,
    "MAX_QUEUED_BYTES_PER_CLIENT": True,
    "MAX_DOCUMENT_BYTES_PER_CLIENT": True,
    "NEW_SESSIONS_PER_CLIENT_BURST": False,
    "MAX_PATCHES_PER_CLIENT_BURST": False,
    "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST": False,
    "MAX_VALUES_PER_CLIENT_BURST": False,
    "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": False,
    "MAX_FRAME_CONTAINERS": False,
    "MAX_FRAME_VALUES": False,
}


def _count_errors(config: Any) -> list[checks.CheckMessage]:
    # A float, a string or 0 was taken silently: "10" made every session open raise a
    # TypeError (1011) and 0 refused everyone.
    errors: list[checks.CheckMessage] = []
    for name, may_be_none in _COUNT_LIMITS.items():
        value = getattr(config, name)
        if value is None and may_be_none:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(
                checks.Error(
                    f"DOCSYNC[{name!r}] is {value!r}: not a whole number of at least 1.",
                    hint=f"Set {name} to an int of at least 1 (MAX_SESSIONS_PER_CLIENT, MAX_CONNECTIONS_PER_CLIENT, "
                    "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT, MAX_INCOMPLETE_BYTES_PER_CLIENT, "
                    "MAX_QUEUED_BYTES_PER_CLIENT and MAX_DOCUMENT_BYTES_PER_CLIENT may be None: no limit).",
                    id="docsync.E018",
                )
            )
    return errors


#: Rates of a client's token buckets, and what each refills (0 or None: no limit).
_RATES = {
    "NEW_SESSIONS_PER_CLIENT_PER_SECOND": ("sessions one client may make", "NEW_SESSIONS_PER_CLIENT_BURST", "2.0"),
    "MAX_PATCHES_PER_SECOND_PER_CLIENT": (
        "messages all websockets of one client may send",
        "MAX_PATCHES_PER_CLIENT_BURST",
        "500.0",
    ),
    "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": (
        "document requests all websockets of one client may send",
        "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST",
        "50.0",
    ),
    "MAX_VALUES_PER_SECOND_PER_CLIENT": (
        "JSON values all websockets of one client may send",
        "MAX_VALUES_PER_CLIENT_BURST",
        "500000.0",
    ),
    "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": (
        "websocket frames all websockets of one client may send",
        "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST",
        "10000.0",
    ),
}


def _rate_errors(config: Any) -> list[checks.CheckMessage]:
    # A string or a negative rate made every new session's open raise (1011), not refuse (4029).
    errors: list[checks.CheckMessage] = []
    for name, (what, burst, example) in _RATES.items():
        rate = getattr(config, name)
        if rate is None or (isinstance(rate, (int, float)) and not isinstance(rate, bool) and 0 <= rate < float("inf")):
            continue
        errors.append(
            checks.Error(
                f"DOCSYNC[{name!r}] is {rate!r}: not a number of at least 0.",
                hint=f"Set it to how many {what} per second once its burst ({burst}) is spent, "
                f"e.g. {example}; 0 or None: no limit.",
                id="docsync.E022",
            )
        )
    return errors + _client_rate_warnings(config) + _value_burst_errors(config) + _frame_burst_errors(config)


def _value_burst_errors(config: Any) -> list[checks.CheckMessage]:
    # A frame's values are taken at once: a burst below MAX_FRAME_VALUES refuses a frame the
    # frame limit lets through every time (4029), on an idle server too; the client retries.
    rate, burst, largest = (
        config.MAX_VALUES_PER_SECOND_PER_CLIENT,
        config.MAX_VALUES_PER_CLIENT_BURST,
        config.MAX_FRAME_VALUES,
    )
    if not rate or not _whole(burst) or not _whole(largest) or burst >= largest:
        return []  # off, or not whole numbers (E018 says so)
    return [
        checks.Error(
            f"DOCSYNC['MAX_VALUES_PER_CLIENT_BURST'] ({burst}) is smaller than DOCSYNC['MAX_FRAME_VALUES'] "
            f"({largest}): a client's frame with as many values as that limit allows could never be taken.",
            hint="Set MAX_VALUES_PER_CLIENT_BURST at least MAX_FRAME_VALUES (its default holds two such frames), "
            "or MAX_VALUES_PER_SECOND_PER_CLIENT to 0 / None to turn the client's bucket off.",
            id="docsync.E027",
        )
    ]


def _frame_burst_errors(config: Any) -> list[checks.CheckMessage]:
    # A read's frames are taken at once, and a message's with them: a burst below one largest
    # message's frames (header, metadata, content, two per buffer) could refuse it every time.
    rate, burst, buffers = (
        config.MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT,
        config.MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST,
        config.MAX_BUFFERS,
    )
    if not rate or not _whole(burst) or not _whole(buffers) or burst >= 3 + 2 * buffers:
        return []  # off, or not whole numbers (E018 says so of the burst)
    return [
        checks.Error(
            f"DOCSYNC['MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST'] ({burst}) is smaller than the frames of one message "
            f"with DOCSYNC['MAX_BUFFERS'] ({buffers}) buffers ({3 + 2 * buffers}): such a message could be refused "
            "every time it is sent.",
            hint="Set MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST at least 3 + 2 * MAX_BUFFERS (its default holds ten such "
            "messages), or MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT to 0 / None to turn the client's bucket off.",
            id="docsync.E028",
        )
    ]


def _client_rate_warnings(config: Any) -> list[checks.CheckMessage]:
    # docsync's clients pace each connection to MAX_PATCHES_PER_SECOND (announced by the
    # page): a client's bucket below it closes one such connection, never closed before.
    per_connection, rate, burst = (
        config.MAX_PATCHES_PER_SECOND,
        config.MAX_PATCHES_PER_SECOND_PER_CLIENT,
        config.MAX_PATCHES_PER_CLIENT_BURST,
    )
    numbers = [value for value in (per_connection, rate, burst) if isinstance(value, (int, float))]
    if not rate or len(numbers) < 3 or any(isinstance(value, bool) for value in numbers):
        return []  # off, or not numbers (E018, E022 say so)
    if rate >= per_connection and burst >= per_connection:
        return []
    return [
        checks.Warning(
            f"DOCSYNC['MAX_PATCHES_PER_SECOND_PER_CLIENT'] ({rate!r}) or DOCSYNC['MAX_PATCHES_PER_CLIENT_BURST'] "
            f"({burst!r}) is below DOCSYNC['MAX_PATCHES_PER_SECOND'] ({per_connection!r}): one connection keeping "
            "to its own rate, as docsync's clients do, may be closed 4029.",
            hint="Set both at least MAX_PATCHES_PER_SECOND (a client's connections together may then send as "
            "much as one of them), or 0 / None to bound each connection only.",
            id="docsync.W012",
        )
    ]


#: Seconds that pace a loop of the server (0 spins it: the snapshot writer never wrote again).
_PERIODS = ("CHECK_UNUSED_SESSIONS", "PROCESS_TIMEOUT", "SNAPSHOT_INTERVAL", "SNAPSHOT_LIFETIME")


def _period_errors(config: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for name in _PERIODS:
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < float("inf"):
            errors.append(
                checks.Error(
                    f"DOCSYNC[{name!r}] is {value!r}: not a number of seconds above 0.",
                    hint=f"Set {name} to a positive number of seconds (CHECK_UNUSED_SESSIONS, PROCESS_TIMEOUT, "
                    "SNAPSHOT_INTERVAL and SNAPSHOT_LIFETIME pace the server's own loops).",
                    id="docsync.E023",
                )
            )
    return errors


def _limit_errors(config: Any) -> list[checks.CheckMessage]:
    # A pull carries a whole document: what clients may make of one must fit the wire.
    pairs = [("MAX_COLUMN_BYTES", "MAX_FRAME_BYTES"), ("MAX_DOCUMENT_BYTES", "MAX_MESSAGE_BYTES")]
    errors: list[checks.CheckMessage] = [
        checks.Error(
            f"DOCSYNC[{bound!r}] is larger than DOCSYNC[{wire!r}]: a pull of such a document could not be sent.",
            hint=f"Set {bound} at most {wire} (or None, its default, to derive it).",
            id="docsync.E007",
        )
        for bound, wire in pairs
        if getattr(config, bound) is not None and getattr(config, bound) > getattr(config, wire)
    ]
    # A message's frames are held until it completes: a client's share (or the process's
    # whole room) below one largest message refuses its last frames every time, on an idle
    # server too (1013; the client retries: 1013 again). Two checks, so that the reference
    # table names each setting.
    largest = config.MAX_MESSAGE_BYTES
    share, room = config.MAX_INCOMPLETE_BYTES_PER_CLIENT, config.MAX_INCOMPLETE_BYTES
    if _whole(share) and _whole(largest) and share < largest:  # (not whole: E018 says so)
        errors.append(
            checks.Error(
                f"DOCSYNC['MAX_INCOMPLETE_BYTES_PER_CLIENT'] ({share}) is smaller than DOCSYNC['MAX_MESSAGE_BYTES'] "
                f"({largest}): a client's largest message could never complete.",
                hint="Set MAX_INCOMPLETE_BYTES_PER_CLIENT at least MAX_MESSAGE_BYTES (or None: no limit).",
                id="docsync.E021",
            )
        )
    if _whole(room) and _whole(largest) and room < largest:
        errors.append(
            checks.Error(
                f"DOCSYNC['MAX_INCOMPLETE_BYTES'] ({room}) is smaller than DOCSYNC['MAX_MESSAGE_BYTES'] "
                f"({largest}): a largest message could never complete, on an idle server too.",
                hint="Set MAX_INCOMPLETE_BYTES at least MAX_MESSAGE_BYTES.",
                id="docsync.E025",
            )
        )
    return errors


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _origin_errors(config: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    for entry in config.ALLOWED_ORIGINS:
        if entry in ("*", "null") or entry in legacy_entries([entry]):
            continue
        wildcard = entry.replace("://*.", "://", 1)
        if parse_origin(wildcard) is None:
            errors.append(
                checks.Error(
                    f"DOCSYNC['ALLOWED_ORIGINS'] has an invalid origin {entry!r}.",
                    hint="Write origins as in CSRF_TRUSTED_ORIGINS: 'https://host[:port]' or 'https://*.domain'.",
                    id="docsync.E008",
                )
            )
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_deploy(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about settings that are unsafe on a public server."""
    warnings: list[checks.CheckMessage] = []
    config = docsync_settings()
    if "*" in config.ALLOWED_ORIGINS:
        warnings.append(
            checks.Warning(
                "DOCSYNC['ALLOWED_ORIGINS'] contains '*': any site may open websockets to your apps.",
                hint="List the origins that embed your apps instead.",
                id="docsync.W101",
            )
        )
    public = [h for h in settings.ALLOWED_HOSTS if h not in ("localhost", "127.0.0.1", "[::1]", "::1")]
    if settings.DEBUG and public:
        warnings.append(
            checks.Warning(
                "DEBUG is on while ALLOWED_HOSTS names public hosts: errors would show tracebacks.",
                hint="Set DEBUG = False in production.",
                id="docsync.W102",
            )
        )
    legacy = legacy_entries(config.ALLOWED_ORIGINS)
    if legacy:
        warnings.append(
            checks.Warning(
                f"DOCSYNC['ALLOWED_ORIGINS'] lists {legacy!r} without a scheme: each matches http and https.",
                hint="Write full origins, e.g. 'https://" + legacy[0] + "', as CSRF_TRUSTED_ORIGINS does.",
                id="docsync.W104",
            )
        )
    if config.SESSION_TOKEN_EXPIRATION > 3600:
        warnings.append(
            checks.Warning(
                "DOCSYNC['SESSION_TOKEN_EXPIRATION'] is over an hour.",
                hint="Keep session-creating tokens short-lived (the default is 300 s).",
                id="docsync.W103",
            )
        )
    return warnings
