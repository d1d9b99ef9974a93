"""Django's signers for tokens and the visitor cookie, made once per key, with the HMAC key derived once.

Every page signs a token and a visitor cookie, and every websocket checks a token. Django
builds a signer per call (settings read, separator checked; for a cookie the backend
imported by name) and derives its HMAC key from the salt and ``SECRET_KEY`` (a SHA-256)
for every signature. These are Django's own classes and formats, with ``signature``
computing the same value from a key derived once (one HMAC call). Signers are cached by
``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` as they are now: a changed key makes new ones.
"""

from __future__ import annotations

import binascii
import functools
import hashlib
import hmac
import json
import zlib
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.encoding import force_bytes

__all__ = ["cookie_signer", "timestamp_signer"]

_DJANGO_BACKEND = "django.core.signing.TimestampSigner"


@functools.lru_cache(maxsize=32)
def _derived_key(salt: bytes, key: bytes) -> bytes:
    # What django.utils.crypto.salted_hmac derives for every signature.
    return hashlib.sha256(salt + key).digest()


#: What Django's JSONSerializer.dumps encodes with (``json.dumps(obj, separators=(",", ":"))``
#: makes an encoder of these options per call).
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))
_URLSAFE_ENCODE = bytes.maketrans(b"+/", b"-_")
_URLSAFE_DECODE = bytes.maketrans(b"-_", b"+/")


def _b64_encode(data: bytes) -> bytes:
    """``signing.b64_encode``: ``base64.urlsafe_b64encode(data).strip(b"=")``, without base64's two wrappers."""
    return binascii.b2a_base64(data, newline=False).translate(_URLSAFE_ENCODE).strip(b"=")


def _b64_decode(text: bytes) -> bytes:
    """``signing.b64_decode``: the same bytes, and the same errors, without base64's wrappers."""
    return binascii.a2b_base64((text + b"=" * (-len(text) % 4)).translate(_URLSAFE_DECODE))


class _KeyedSignatures:
    """Django's ``Signer.signature``, ``sign_object`` and ``unsign_object``: the same values, cheaper.

    The HMAC key is derived once per salt and key; the JSON and base64 steps are Django's
    (JSONSerializer, b64_encode/b64_decode) without the wrappers around them (``force_bytes``
    per argument, an encoder made per call). Another serializer or a compressed object
    takes Django's own code.
    """

    key: bytes | str
    salt: bytes | str
    algorithm: str

    def signature(self, value: str | bytes, key: Any = None) -> str:
        key = key or self.key
        if self.algorithm != "sha256":
            return super().signature(value, key)  # type: ignore[misc, no-any-return]
        derived = _derived_key(force_bytes(self.salt) + b"signer", force_bytes(key))
        data = value.encode() if type(value) is str else force_bytes(value)
        return _b64_encode(hmac.digest(derived, data, "sha256")).decode()

    def sign_object(self, obj: Any, serializer: Any = signing.JSONSerializer, compress: bool = False) -> str:
        if serializer is not signing.JSONSerializer or compress:
            return super().sign_object(obj, serializer=serializer, compress=compress)  # type: ignore[misc, no-any-return]
        return self.sign(_b64_encode(_COMPACT_JSON.encode(obj).encode("latin-1")).decode())  # type: ignore[attr-defined, no-any-return]

    def unsign_object(self, signed_obj: str, serializer: Any = signing.JSONSerializer, **kwargs: Any) -> Any:
        if serializer is not signing.JSONSerializer:
            return super().unsign_object(signed_obj, serializer=serializer, **kwargs)  # type: ignore[misc]
        base64d = self.unsign(signed_obj, **kwargs).encode()  # type: ignore[attr-defined]
        decompress = base64d[:1] == b"."
        if decompress:
            base64d = base64d[1:]
        data = _b64_decode(base64d)
        if decompress:
            data = zlib.decompress(data)
        return json.loads(data.decode("latin-1"))


class _TimestampSigner(_KeyedSignatures, signing.TimestampSigner):
    """Django's TimestampSigner with keyed signatures."""


@functools.lru_cache(maxsize=16)
def _timestamp_signer(salt: str, sep: str, key: Any, fallbacks: tuple[Any, ...]) -> signing.TimestampSigner:
    return _TimestampSigner(key=key, fallback_keys=list(fallbacks), salt=salt, sep=sep)


def timestamp_signer(salt: str, sep: str = ":") -> signing.TimestampSigner:
    """``TimestampSigner(salt=salt, sep=sep)`` for the current ``SECRET_KEY`` and fallbacks: its tokens, cheaper."""
    return _timestamp_signer(salt, sep, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))


def _cookie_key(key: Any) -> bytes:
    # The key get_cookie_signer signs with (tests/server/test_signers.py checks the signatures are its).
    return b"django.http.cookies" + force_bytes(key)


@functools.lru_cache(maxsize=16)
def _cookie_signer(salt: str, key: Any, fallbacks: tuple[Any, ...]) -> signing.Signer:
    # As get_cookie_signer makes it, with the fallback keys in a list (it passes a map,
    # which a signer kept for the next call would have used up).
    return _TimestampSigner(key=_cookie_key(key), fallback_keys=[_cookie_key(k) for k in fallbacks], salt=salt)


def cookie_signer(salt: str) -> signing.Signer:
    """``django.core.signing.get_cookie_signer(salt)``: its cookies, cheaper (Django's own for another backend)."""
    if settings.SIGNING_BACKEND != _DJANGO_BACKEND:
        return signing.get_cookie_signer(salt=salt)
    return _cookie_signer(salt, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
