"""Keep the LiveSession table in step with this process's sessions, off the hot path.

A task wakes every ``ADMIN_REFRESH`` seconds, snapshots the sessions on the loop (cheap
reads of counters), and writes from a worker thread the rows that changed, plus one
UPDATE that marks all of this process's rows fresh. Rows of processes that
stopped reporting for ``PROCESS_TIMEOUT`` seconds are deleted by whichever process
refreshes next.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any, Protocol

from ...conf import docsync_settings
from ..executor import run_sync
from ..session import ServerSession

__all__ = ["LiveTableWriter", "SessionSource", "snapshot_rows"]

logger = logging.getLogger("docsync.server")


class SessionSource(Protocol):
    """Where the writer reads this process's sessions (the registry)."""

    process_id: str

    def sessions(self) -> list[ServerSession]:
        """Every live session of this process."""
        ...


def _when(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC)


def _user_name(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return str(user.get_username())


def _snapshot_of(registry: SessionSource, session: ServerSession) -> tuple[float | None, int]:
    """When the session's last snapshot was written, and its bytes (persistence/; none when it is off)."""
    keeper = getattr(registry, "keeper", None)
    state = keeper.states.get(session.id) if keeper is not None else None
    return (state.saved_at, state.nbytes) if state is not None else (None, 0)


def _fingerprint(session: ServerSession, snapshot: tuple[float | None, int]) -> tuple[Any, ...]:
    # What a row shows that can change; rows whose fingerprint did not move are not
    # rewritten, so ten thousand idle sessions cost one UPDATE per refresh.
    stats = session.stats
    return (
        snapshot,
        session.last_activity,
        len(session.connections),
        session.model_count,
        session.keep_alive,
        stats["messages_in"],
        stats["messages_out"],
    )


def _row(registry: SessionSource, session: ServerSession, snapshot: tuple[float | None, int]) -> dict[str, Any]:
    return {
        "snapshot_saved": _when(snapshot[0]) if snapshot[0] is not None else None,
        "snapshot_bytes": snapshot[1],
        "session_id": session.id,
        "app": session.app_path,
        "user": _user_name(session.request.get("user")),
        "process": registry.process_id,
        "created": _when(session.created),
        "last_activity": _when(session.last_activity),
        "connections": len(session.connections),
        "models_count": session.model_count,
        "keep_alive": session.keep_alive,
        **session.stats,
    }


def snapshot_rows(
    registry: SessionSource, written: dict[str, tuple[Any, ...]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return rows of sessions changed since ``written`` (updated in place) and ids gone."""
    changed = []
    live: set[str] = set()
    for session in registry.sessions():
        live.add(session.id)
        snapshot = _snapshot_of(registry, session)
        fingerprint = _fingerprint(session, snapshot)
        if written.get(session.id) != fingerprint:
            written[session.id] = fingerprint
            changed.append(_row(registry, session, snapshot))
    gone = [session_id for session_id in written if session_id not in live]
    for session_id in gone:
        del written[session_id]
    return changed, gone


def _write(process_id: str, changed: list[dict[str, Any]], gone: list[str], timeout: float) -> None:
    from ...models import LiveSession

    now = dt.datetime.now(tz=dt.UTC)
    fields = [f.name for f in LiveSession._meta.fields if f.name != "session_id"]
    if changed:
        objects = [LiveSession(reported=now, **row) for row in changed]
        LiveSession.objects.bulk_create(
            objects, update_conflicts=True, unique_fields=["session_id"], update_fields=fields
        )
    for start in range(0, len(gone), 500):
        LiveSession.objects.filter(session_id__in=gone[start : start + 500]).delete()
    # One statement marks every row of this process as fresh.
    LiveSession.objects.filter(process=process_id).update(reported=now)
    LiveSession.objects.filter(reported__lt=now - dt.timedelta(seconds=timeout)).delete()


def _clear(process_id: str) -> None:
    from ...models import LiveSession

    LiveSession.objects.filter(process=process_id).delete()


class LiveTableWriter:
    """The periodic writer of one process's rows."""

    def __init__(self, registry: SessionSource) -> None:
        self.registry = registry
        self.last_write: float | None = None
        self.task: asyncio.Task[None] | None = None
        self._written: dict[str, tuple[Any, ...]] = {}
        # One write at a time, in the order asked: a row changed by an admin command is
        # written after any refresh that snapshot it before the change, never under it.
        self._writing = asyncio.Lock()

    def ensure_started(self) -> None:
        """Start the writer on the running loop if it is not running."""
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    @property
    def running(self) -> bool:
        """Tell whether the periodic writer runs in this process."""
        return self.task is not None and not self.task.done()

    async def write_now(self) -> None:
        """Write this process's rows now, after any write already under way."""
        async with self._writing:
            changed, gone = snapshot_rows(self.registry, self._written)
            timeout = float(docsync_settings().PROCESS_TIMEOUT)
            try:
                await run_sync(_write, self.registry.process_id, changed, gone, timeout)
            except BaseException:
                self._written.clear()  # write everything again next time
                raise
            self.last_write = asyncio.get_running_loop().time()

    async def _run(self) -> None:
        while True:
            try:
                await self.write_now()
            except Exception:  # the database may be briefly away; the next round retries
                logger.exception("could not write the live-session table")
            await asyncio.sleep(float(docsync_settings().ADMIN_REFRESH))

    async def stop(self) -> None:
        """Stop writing and remove this process's rows."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
        try:
            await run_sync(_clear, self.registry.process_id)
        except Exception:
            logger.exception("could not clear the live-session table")
