"""Which origins may open a websocket: scheme, host and port, as Django's CSRF check has it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from docsync.origins import legacy_entries, origin_allowed, origin_listed, parse_origin, scope_origin_allowed


def allowed(
    origin: str | None,
    *,
    allowed_origins: tuple[str, ...] | list[str] = (),
    trusted: tuple[str, ...] | list[str] = (),
    host: str = "app.example.com:8000",
    secure: bool = False,
    allowed_hosts: tuple[str, ...] | list[str] = ("app.example.com",),
) -> bool:
    return origin_allowed(
        origin,
        host=host,
        secure=secure,
        allowed_hosts=list(allowed_hosts),
        allowed_origins=list(allowed_origins),
        trusted_origins=list(trusted),
    )


def test_parse_origin_fills_in_default_ports() -> None:
    assert parse_origin("https://Example.COM") == ("https", "example.com", 443)
    assert parse_origin("http://example.com:8080/") == ("http", "example.com", 8080)
    assert parse_origin("http://[::1]:8000") == ("http", "::1", 8000)
    for bad in ("example.com", "ftp://example.com", "http://", "http://a:99999", "http://u@a", "http://a/x", "null"):
        assert parse_origin(bad) is None, bad


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://app.example.com:8000", True),  # the page's own origin
        ("http://APP.example.com:8000", True),
        ("http://app.example.com:8001", False),  # another port on the same host
        ("http://app.example.com", False),
        ("https://app.example.com:8000", False),  # another scheme
        ("http://evil.example", False),
        ("null", False),
        ("garbage", False),
        (None, True),  # not a browser: its token still guards the session
    ],
)
def test_same_origin_means_scheme_host_and_port(origin: str | None, expected: bool) -> None:
    assert allowed(origin) is expected


def test_tls_is_the_request_s_own_scheme() -> None:
    assert allowed("https://app.example.com", host="app.example.com", secure=True)
    assert allowed("https://app.example.com", host="app.example.com:443", secure=True)
    assert not allowed("http://app.example.com", host="app.example.com", secure=True)


def test_a_star_in_allowed_hosts_is_not_any_origin() -> None:
    assert allowed("http://app.example.com:8000", allowed_hosts=["*"])
    assert not allowed("http://evil.example", allowed_hosts=["*"])
    assert not allowed("null", allowed_hosts=["*"])


def test_a_host_django_would_refuse_is_no_origin_of_ours() -> None:
    assert not allowed("http://other.example:8000", host="other.example:8000")
    assert allowed("http://sub.app.example.com:8000", host="sub.app.example.com:8000", allowed_hosts=[".example.com"])


def test_listed_origins_match_exactly_or_by_subdomain_wildcard() -> None:
    listed = ["https://embed.example.org", "https://*.partner.example", "http://localhost:3000"]
    for origin, expected in [
        ("https://embed.example.org", True),
        ("https://embed.example.org:443", True),
        ("https://embed.example.org:444", False),
        ("http://embed.example.org", False),
        ("https://a.partner.example", True),
        ("https://a.b.partner.example", True),
        ("https://partner.example", True),
        ("http://a.partner.example", False),
        ("https://a.partner.example:8443", False),
        ("http://localhost:3000", True),
        ("http://localhost:3001", False),
    ]:
        assert allowed(origin, allowed_origins=listed) is expected, origin
        assert allowed(origin, trusted=listed) is expected, origin  # CSRF_TRUSTED_ORIGINS alike


def test_the_old_host_port_form_still_matches_either_scheme() -> None:
    assert allowed("http://embed.example.org:81", allowed_origins=["embed.example.org:81"])
    assert allowed("https://embed.example.org:81", allowed_origins=["embed.example.org:81"])
    assert not allowed("https://embed.example.org:82", allowed_origins=["embed.example.org:81"])
    assert legacy_entries(["embed.example.org:81", "https://x.example", "*", "null"]) == ["embed.example.org:81"]


def test_only_explicit_settings_open_every_origin_or_null() -> None:
    assert allowed("http://evil.example", allowed_origins=["*"])
    assert not allowed("null", allowed_origins=["*"])
    assert allowed("null", allowed_origins=["null"])
    assert not allowed("http://evil.example", allowed_origins=["null"])


def _scope(origin: str, host: str, scheme: str = "ws", **headers: str) -> dict[str, Any]:
    raw = {"origin": origin, "host": host, **headers}
    return {"scheme": scheme, "headers": [(k.encode(), v.encode()) for k, v in raw.items()]}


def test_the_consumer_s_rule_reads_django_s_settings() -> None:
    with override_settings(
        ALLOWED_HOSTS=["site.example"], DEBUG=False, CSRF_TRUSTED_ORIGINS=["https://trusted.example"]
    ):
        assert scope_origin_allowed(_scope("http://site.example", "site.example"))
        assert not scope_origin_allowed(_scope("https://site.example", "site.example"))
        assert scope_origin_allowed(_scope("https://site.example", "site.example", scheme="wss"))
        assert scope_origin_allowed(_scope("https://trusted.example", "site.example"))
        assert not scope_origin_allowed(_scope("http://site.example:8000", "site.example"))
        with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
            proxied = _scope("https://site.example", "site.example", **{"x-forwarded-proto": "https"})
            assert scope_origin_allowed(proxied)
    with override_settings(ALLOWED_HOSTS=[], DEBUG=True):
        assert scope_origin_allowed(_scope("http://localhost:8000", "localhost:8000"))
        assert not scope_origin_allowed(_scope("http://site.example", "site.example"))


def test_cors_on_the_embedding_scripts_follows_the_lists() -> None:
    with override_settings(DOCSYNC={"ALLOWED_ORIGINS": ["https://embed.example.org"]}, CSRF_TRUSTED_ORIGINS=[]):
        assert origin_listed("https://embed.example.org")
        assert not origin_listed("http://embed.example.org")
        assert not origin_listed("null")


@pytest.mark.parametrize(
    ("entries", "error"),
    [
        (["https://ok.example", "*", "null", "host:81"], None),
        (["https://ok.example/path"], "docsync.E008"),
        (["ftp://x"], "docsync.E008"),
    ],
)
def test_invalid_allowed_origins_are_reported(entries: list[str], error: str | None) -> None:
    with override_settings(DOCSYNC={"APPS": {}, "ALLOWED_ORIGINS": entries}):
        if error is None:
            call_command("check")
            return
        with pytest.raises(SystemCheckError) as raised:
            call_command("check")
    assert error in str(raised.value) and "'https://host[:port]'" in str(raised.value)
