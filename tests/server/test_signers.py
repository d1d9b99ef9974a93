"""docsync's kept signers sign and check exactly as Django's signers made per call, for the current keys."""

from __future__ import annotations

import pytest
from django.core import signing
from django.test import override_settings

from docsync.exceptions import TokenError
from docsync.server.admission.signers import cookie_signer, timestamp_signer
from docsync.server.admission.tokens import issue_token, read_token
from docsync.server.admission.visitors import visitor_of_cookie

SALT = "docsync.session-token"


def _django_token(payload: object, **keys: object) -> str:
    return signing.TimestampSigner(salt=SALT, sep=".", **keys).sign_object(payload)  # type: ignore[arg-type]


def test_signatures_are_django_s() -> None:
    for value in ("", "abc", "é ünïcode", "x" * 5000):
        assert timestamp_signer(SALT, ".").signature(value) == signing.TimestampSigner(salt=SALT, sep=".").signature(
            value
        )
        assert cookie_signer("docsync.visitor").sign(value) == signing.get_cookie_signer("docsync.visitor").sign(value)
    payload = {"sid": "s", "app": "a", "uid": None, "args": {"k": ["v"]}}
    assert timestamp_signer(SALT, ".").unsign_object(_django_token(payload)) == payload


def test_a_new_secret_key_makes_new_signatures_and_refuses_the_old_ones() -> None:
    token = issue_token("s1", "sliders", None)
    cookie = cookie_signer("docsync.visitor").sign("visitor-1")
    with override_settings(SECRET_KEY="another key for this test"):
        assert timestamp_signer(SALT, ".").signature("v") == signing.TimestampSigner(salt=SALT, sep=".").signature("v")
        with pytest.raises(TokenError, match="invalid token"):
            read_token(token, max_age=60)
        assert visitor_of_cookie(cookie) is None
        fresh = issue_token("s2", "sliders", None)
        assert read_token(fresh, max_age=60).session_id == "s2"
    with pytest.raises(TokenError, match="invalid token"):
        read_token(fresh, max_age=60)
    assert read_token(token, max_age=60).session_id == "s1" and visitor_of_cookie(cookie) == "visitor-1"


def test_tokens_and_cookies_of_a_fallback_key_are_taken_every_time() -> None:
    from django.conf import settings

    old = settings.SECRET_KEY
    token = issue_token("s1", "sliders", None)
    cookie = signing.get_cookie_signer("docsync.visitor").sign("visitor-1")
    with override_settings(SECRET_KEY="the rotated key", SECRET_KEY_FALLBACKS=[old]):
        for _ in range(3):  # Django's cookie signer takes its fallbacks once (a map): a kept one must not
            assert read_token(token, max_age=60).session_id == "s1"
            assert visitor_of_cookie(cookie) == "visitor-1"


def test_a_site_s_own_signing_backend_signs_its_cookies() -> None:
    with override_settings(SIGNING_BACKEND="django.core.signing.Signer"):
        signer = cookie_signer("docsync.visitor")
        assert type(signer) is signing.Signer
        assert signer.sign("v") == signing.get_cookie_signer("docsync.visitor").sign("v")


def test_signed_objects_are_django_s_and_django_s_are_read() -> None:
    import time

    ours = timestamp_signer(SALT, ".")
    payloads: list[object] = [
        {"sid": "s", "args": {"k": ["v", "é ü \u2028 </script>"]}, "n": 1.5, "none": None},
        ["a", 1, True],
        "just a string",
    ]
    for payload in payloads:
        for _ in range(2):
            second = int(time.time())
            token, django = ours.sign_object(payload), _django_token(payload)
            if int(time.time()) == second:
                assert token == django
            assert (
                ours.unsign_object(django)
                == payload
                == signing.TimestampSigner(salt=SALT, sep=".").unsign_object(token)
            )
    compressed = signing.TimestampSigner(salt=SALT, sep=".").sign_object({"x": "y" * 500}, compress=True)
    assert ours.unsign_object(compressed) == {"x": "y" * 500}
    assert ours.sign_object({"x": "y" * 500}, compress=True).rsplit(".", 2)[0] == compressed.rsplit(".", 2)[0]
    with pytest.raises(signing.BadSignature):
        ours.unsign_object(token[:-2] + "xx")
