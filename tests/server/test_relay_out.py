"""A relay's opening and closing, in memory: what the owner is told (no Redis, no server)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from docsync.server.cluster.relay_out import RelayOut
from docsync.server.cluster.wire import RELAY_CLOSED, RELAY_OPEN


class _Layer:
    """A channel layer whose send of a relay's opening goes out, then waits (a slow Redis)."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.opening = asyncio.Event()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == RELAY_OPEN:
            self.opening.set()
            await asyncio.Event().wait()  # its reply never comes


class _Directory:
    process_id = "relaying"

    async def process_route(self, owner: str) -> tuple[str | None, str | None]:
        return "owner-channel", None  # no direct route: the channel layer


class _Socket:
    def relay_frames(self, frames: list[Any], nbytes: int | None = None) -> None:
        raise AssertionError("no frames expected")

    def close_with(self, code: int, reason: str, detail: str | None = None) -> None:
        raise AssertionError("no close expected")


@pytest.mark.asyncio
async def test_a_relay_cancelled_while_it_opens_is_closed_on_the_owner() -> None:
    """daphne cancels a consumer 10 s after its disconnect, maybe while its relay's opening is in flight.

    The owner may have the opening, and would keep the connection's place in its session
    (and its client's share) until this process died: it is told the relay closed.
    """
    layer = _Layer()
    relays = RelayOut(layer, _Directory(), "relaying-channel")  # type: ignore[arg-type]
    opening = asyncio.ensure_future(
        relays.open(
            _Socket(),
            "owner",
            session_id="s",
            app_path="counted",
            origin="o",
            user_id=None,
            arguments={},
            request_info={},
            token_expired=False,
        )
    )
    await layer.opening.wait()
    opening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await opening
    assert [m["type"] for m in layer.sent] == [RELAY_OPEN, RELAY_CLOSED]
    assert layer.sent[1]["conn_id"] == layer.sent[0]["conn_id"]
    assert relays.relays == {} and relays.windows == {}
