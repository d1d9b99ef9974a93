"""Callbacks fed fuzzed values: patches and messages for every callback of the ``workers`` app.

An accepted change whose callback surely raises (a text that is no integer) is told to
every tab as protocol.md §9 says: a ``docsync.notice`` of kind ``error``, without detail
(DEBUG is off), the sender's right after its OK; a refused one leaves a fresh pull
byte-identical; a watching tab converges; a valid change still runs the callbacks.
Budget and variables: ``session_fuzz``.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import strategies as st

from docsync.client import ClientSession
from docsync.protocol import ERROR, OK, PATCH_DOC, new_message
from docsync.testing import EVENT_WAIT, RawSocket

from .fuzz_sessions import Drawn, callback_patches
from .harness import Site, open_client, open_raw
from .session_fuzz import (
    NOTICE_TEXT,
    PATCH_CODES,
    SEED,
    FuzzTarget,
    check_close,
    check_log,
    check_messages,
    converged,
    ids_of,
    pull,
    reply_to,
    run_fuzz,
)
from .test_fuzz import LoopThread


@dataclass
class Workers:
    """A session of ``workers`` under fuzz: a raw sender, and a tab that watches."""

    config: dict[str, Any]
    watcher: ClientSession
    sender: RawSocket
    ids: dict[str, str]
    sent: int = 0

    @classmethod
    async def open(cls, target: FuzzTarget, hops: tuple[int, int, int] = (0, 0, 0), app: str = "workers") -> Workers:
        """A new session: its watcher (the owner), sender (on another process) and fresh pulls land by ``hops``."""
        watching, sending, pulling = hops
        page = target.page_config(app, watching)
        watcher = await open_client(target.via(page, watching))
        sending_config = target.via(page, target.other(watching, sending))
        sender = await open_raw(sending_config["wsUrl"], page["token"])
        assert sender.messages and sender.messages[0].msgtype == "ACK", sender.errors()
        return cls(target.via(page, pulling), watcher, sender, ids_of(watcher.document))

    def notices(self, sock: RawSocket | None = None) -> list[Any]:
        """The ``docsync.notice`` data the watcher (or ``sock``) received so far."""
        received = sock.messages if sock is not None else self.watcher.received
        return [
            event.get("msg_data")
            for message in received
            if message.msgtype == PATCH_DOC
            for event in message.content.get("events", [])
            if event.get("kind") == "MessageSent" and event.get("msg_type") == "docsync.notice"
        ]

    async def still_works(self, value: int) -> None:
        """A valid change runs its callbacks: the slider's label follows it, in the watcher too."""
        event = {"kind": "ModelChanged", "model": {"id": self.ids["slider"]}, "attr": "value", "new": value}
        message = new_message(PATCH_DOC, {"events": [event]})
        await self.sender.send_message(message)
        reply = await reply_to(self.sender, message.msgid)
        assert reply is not None and reply.msgtype == OK, reply
        label = self.watcher.document.get_model_by_name("label")
        await self.watcher.wait_for(lambda: label.text.startswith(f"{value:,.2f} "), EVENT_WAIT)  # type: ignore[union-attr]

    async def close(self) -> None:
        await self.sender.close()
        await self.watcher.close()


def more_notices(workers: Workers, seen: int) -> bool:
    """Whether the watcher received more than ``seen`` notices."""
    return len(workers.notices()) > seen


async def _callback_case(
    target: FuzzTarget,
    pool: list[Workers],
    case: tuple[list[Drawn], tuple[int, int, int]],
    stats: collections.Counter[str],
) -> None:
    patches, hops = case
    if not pool or pool[0].sender.close_code is not None or pool[0].sent >= 40:
        if pool:
            await pool.pop().close()
        pool.append(await Workers.open(target, hops))
        stats["sessions"] += 1
    workers = pool[0]
    for drawn in patches:
        workers.sent += 1
        msgid = f"fz{workers.sent}"
        what = f"patch {json.dumps(drawn.content)[:600]}"
        seen = len(workers.notices())
        before = await pull(workers.config)
        await workers.sender.send_frames(*drawn.frames(workers.ids, msgid))
        reply = await reply_to(workers.sender, msgid)
        check_messages(workers.sender, what)
        if reply is None:
            check_close(workers.sender, what)
            stats["closed"] += 1
            assert (await pull(workers.config)).raw == before.raw, f"{what}: a refused patch changed the document"
            return
        if reply.msgtype == ERROR:
            assert reply.content.get("code") in PATCH_CODES, f"{what}: {reply.content}"
            stats["refused"] += 1
            assert (await pull(workers.config)).raw == before.raw, f"{what}: a refused patch changed the document"
            continue
        stats["accepted"] += 1
        if drawn.must_raise and not reply.content.get("rejected"):
            # The callback raised: every tab is told, without detail (DEBUG is off).
            stats["raised"] += 1
            await workers.watcher.wait_for(functools.partial(more_notices, workers, seen), EVENT_WAIT)
            # The sender has it right after the OK (protocol.md §13: the answer comes first).
            told = len(workers.notices(workers.sender))
            changes = await workers.sender.read_message(timeout=EVENT_WAIT)
            assert changes.msgtype == PATCH_DOC and changes.content.get("seq") == reply.content.get("applied_seq"), (
                f"{what}: after the OK {reply.content}, {changes.msgtype} {changes.content}"
            )
            assert len(workers.notices(workers.sender)) > told, f"{what}: the sender was not told its callback failed"
        await converged(workers.watcher, workers.config, what)
    for notice in workers.notices():
        assert isinstance(notice, dict) and notice.get("kind") == "error", notice
        count = str(notice.get("text", "")).removeprefix("Something went wrong on the server (").split(")")[0]
        assert notice["text"] == NOTICE_TEXT.format(count), notice
    assert not workers.watcher.errors, workers.watcher.errors
    await workers.still_works(100 + workers.sent)
    await converged(workers.watcher, workers.config, "a valid change after fuzzed ones")


#: A case: the patches one sender sends, and where a new session's connections land (``Workers.open``).
callback_cases = st.tuples(st.lists(callback_patches(), min_size=1, max_size=3), st.tuples(*[st.integers(0, 5)] * 3))


def fuzz_callbacks(target: FuzzTarget, loop: LoopThread, name: str = "callbacks") -> collections.Counter[str]:
    """Run ``examples(name)`` callback cases against ``target``; check its log; return the counts."""
    log_start = target.log_mark()
    stats: collections.Counter[str] = collections.Counter()
    pool: list[Workers] = []
    try:
        run_fuzz(name, callback_cases, lambda case: loop.run(_callback_case(target, pool, case, stats)), stats)
    finally:
        for workers in pool:
            with contextlib.suppress(Exception):
                loop.run(workers.close())
    reported = check_log(target, log_start, f"{name} fuzz")
    assert reported >= stats["raised"], (reported, stats)
    print(f"{name} fuzz: {dict(stats)}, {reported} callback errors logged, seed {SEED}")
    return stats


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
def test_fuzzed_values_fed_to_callbacks_are_reported_and_break_nothing(
    session_fuzz_site: Site, fuzz_loop: LoopThread
) -> None:
    stats = fuzz_callbacks(FuzzTarget(session_fuzz_site), fuzz_loop)
    assert stats["accepted"] >= 5 and stats["refused"] >= 5 and stats["raised"] >= 1, stats
