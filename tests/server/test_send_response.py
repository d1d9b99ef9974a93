"""OneHopASGIHandler.send_response sends the ASGI messages Django's send_response sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse

from docsync.asgi import OneHopASGIHandler


def _responses() -> list[HttpResponseBase]:
    plain = HttpResponse("<p>é</p>", headers={"X-Custom": "v", "Cache-Control": "no-store"})
    plain.set_cookie("visitor", "signed:value", max_age=60, httponly=True, samesite="Lax")
    plain.set_cookie("other", "x")
    big = HttpResponse(b"x" * (ASGIHandler.chunk_size * 2 + 5))
    return [plain, HttpResponse(b"", status=204), big, HttpResponse(b"y" * ASGIHandler.chunk_size, status=404)]


async def _sent(handler: Any, response: HttpResponseBase) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await handler.send_response(response, send)
    return messages


@pytest.mark.asyncio
async def test_the_messages_are_django_s() -> None:
    ours, django = OneHopASGIHandler.__new__(OneHopASGIHandler), ASGIHandler.__new__(ASGIHandler)
    for response in _responses():
        assert await _sent(ours, response) == await _sent(django, response)

    async def parts() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"

    streamed = [StreamingHttpResponse(parts()), StreamingHttpResponse(parts())]
    assert await _sent(ours, streamed[0]) == await _sent(django, streamed[1])
