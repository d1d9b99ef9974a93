"""Keep the LiveSession table in step with this process's sessions, off the hot path.

A task wakes every ``ADMIN_REFRESH`` seconds, snapshots the sessions on the loop (cheap
reads of counters), and writes from a worker thread the rows that changed, plus one
UPDATE that marks all of this process's rows fresh. Rows of processes that
stopped reporting for ``PROCESS_TIMEOUT`` seconds are deleted by whichever process
refreshes next; those of a process of this machine that no longer runs (killed) as soon
as they are silent, by the process after it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import weakref
from typing import Any, Protocol

from django.db import connections, router
from django.db.models import Max, Q, sql
from django.db.models.constants import OnConflict
from django.db.models.signals import post_delete, pre_delete

from ...conf import docsync_settings
from ..executor import run_sync
from ..session import ServerSession
from .processes import own_start, process_gone, rows_kept_for, silent_after

__all__ = ["LiveTableWriter", "SessionSource", "snapshot_rows"]

logger = logging.getLogger("docsync.server")

#: Other processes the unclustered warning names, at most (each once): a log, not a list of the fleet.
MAX_WARNED_PROCESSES = 16


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
        stats.messages_in,
        stats.messages_out,
    )


def _row(registry: SessionSource, session: ServerSession, snapshot: tuple[float | None, int]) -> dict[str, Any]:
    return {
        "snapshot_saved": _when(snapshot[0]) if snapshot[0] is not None else None,
        "snapshot_bytes": snapshot[1],
        "session_id": session.id,
        "app": session.app_path,
        "user": _user_name(session.request.get("user")),
        "process": registry.process_id,
        "process_started": own_start(os.getpid()),
        "created": _when(session.created),
        "last_activity": _when(session.last_activity),
        "connections": len(session.connections),
        "models_count": session.model_count,
        "keep_alive": session.keep_alive,
        **session.stats.as_dict(),
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


def _write(process_id: str, changed: list[dict[str, Any]], gone: list[str], timeout: float) -> int:
    """Write the changed rows, delete the gone ones, mark this process's rows fresh; return how many it has."""
    from ...models import LiveSession

    now = dt.datetime.now(tz=dt.UTC)
    statements = _statements(router.db_for_write(LiveSession))
    if statements is not None:
        return statements.write(process_id, changed, gone, now, timeout)
    fields = [f.name for f in LiveSession._meta.fields if f.name != "session_id"]
    if changed:
        objects = [LiveSession(reported=now, **row) for row in changed]
        LiveSession.objects.bulk_create(
            objects, update_conflicts=True, unique_fields=["session_id"], update_fields=fields
        )
    for start in range(0, len(gone), 500):
        LiveSession.objects.filter(session_id__in=gone[start : start + 500]).delete()
    # One statement marks every row of this process as fresh (not those of a dead one
    # that had its pid: it started at another time).
    held = LiveSession.objects.filter(process=process_id, process_started=own_start(os.getpid())).update(reported=now)
    LiveSession.objects.filter(reported__lt=now - dt.timedelta(seconds=timeout)).delete()
    return held


class _Statements:
    """The writer's four statements as the ORM compiles them for one connection, run with each write's values.

    A refresh runs them every ``ADMIN_REFRESH`` seconds, most often to mark two rows fresh:
    built by the ORM each time (querysets, lookups, a model instance per row, the
    compiler) they cost several times the statements themselves. The SQL is the ORM's
    own, compiled once per connection (its quoting, its upsert clause); each value is
    adapted by its field, as the compiler does.
    """

    def __init__(self, connection: Any) -> None:
        from ...models import LiveSession

        self.connection = connection
        meta = LiveSession._meta
        self.fields = tuple(meta.concrete_fields)
        self.reported = meta.get_field("reported")
        self.process = meta.get_field("process")
        self.session_id = meta.get_field("session_id")
        sample = dt.datetime.now(tz=dt.UTC)
        update_fields = [f for f in self.fields if not f.primary_key]
        insert = sql.InsertQuery(
            LiveSession, on_conflict=OnConflict.UPDATE, update_fields=update_fields, unique_fields=[meta.pk]
        )
        row = LiveSession(session_id="-", app="", user="", process="", created=sample, last_activity=sample)
        insert.insert_values(self.fields, [row])
        [(self.upsert, params)] = insert.get_compiler(connection=connection).as_sql()
        counts = [len(params)]
        objects = LiveSession.objects.using(connection.alias)
        update: Any = objects.filter(process="-").filter(process_started="-").query.chain(sql.UpdateQuery)
        update.add_update_values({"reported": sample})
        self.mark_fresh, params = update.get_compiler(connection=connection).as_sql()
        counts.append(len(params))
        self.process_started = meta.get_field("process_started")
        self.drop_stale, params = self._delete_sql(objects.filter(reported__lt=sample))
        counts.append(len(params))
        self.drop_one, params = self._delete_sql(objects.filter(session_id="-"))
        counts.append(len(params))
        if counts != [len(self.fields), 3, 1, 1]:  # not the statements this class fills in
            raise _Unsupported(f"parameters {counts}")

    def _delete_sql(self, queryset: Any) -> tuple[str, tuple[Any, ...]]:
        query = queryset.query.clone()
        query.__class__ = sql.DeleteQuery  # as QuerySet._raw_delete compiles a delete
        compiled: tuple[str, tuple[Any, ...]] = query.get_compiler(connection=self.connection).as_sql()
        return compiled

    def write(
        self, process_id: str, changed: list[dict[str, Any]], gone: list[str], now: dt.datetime, timeout: float
    ) -> int:
        connection = self.connection
        stamp = self.reported.get_db_prep_save(now, connection)
        with connection.cursor() as cursor:
            if changed:
                rows = []
                for row in changed:
                    values = {**row, "reported": now}
                    rows.append(
                        [
                            f.get_db_prep_save(values[f.name] if f.name in values else f.get_default(), connection)
                            for f in self.fields
                        ]
                    )
                cursor.executemany(self.upsert, rows)
            if gone:
                cursor.executemany(self.drop_one, [[self.session_id.get_db_prep_value(s, connection)] for s in gone])
            # One statement marks every row of this process as fresh.
            started = self.process_started.get_db_prep_value(own_start(os.getpid()), connection)
            cursor.execute(self.mark_fresh, [stamp, self.process.get_db_prep_value(process_id, connection), started])
            held = int(cursor.rowcount)
            cutoff = now - dt.timedelta(seconds=timeout)
            cursor.execute(self.drop_stale, [self.reported.get_db_prep_value(cutoff, connection)])
        return held


class _Unsupported(Exception):
    """The ORM compiled the writer's statements into something _Statements does not fill in."""


#: Per connection (each thread has its own): the compiled statements, or None where the ORM's path is kept.
_compiled: weakref.WeakKeyDictionary[Any, _Statements | None] = weakref.WeakKeyDictionary()


def _statements(alias: str) -> _Statements | None:
    """The compiled statements for database ``alias`` in this thread, or None to write through the ORM.

    The ORM's path is kept where a site listens to the table's deletes (the ORM sends
    pre_delete and post_delete per row then) and where the database has no upsert.
    """
    from ...models import LiveSession

    if pre_delete.has_listeners(LiveSession) or post_delete.has_listeners(LiveSession):
        return None
    connection = connections[alias]
    try:
        return _compiled[connection]
    except KeyError:
        pass
    statements: _Statements | None = None
    if connection.features.supports_update_conflicts_with_target:
        try:
            statements = _Statements(connection)
        except _Unsupported:
            logger.warning("the live-session table is written through the ORM", exc_info=True)
    _compiled[connection] = statements
    return statements


def _drop_gone_processes(process_id: str, refresh: float) -> tuple[list[str], list[str]]:
    """Delete the rows of processes of this machine that no longer run; return those, and the others still writing.

    One query reads every other process's newest write (the only query of this sweep
    when no process is gone). Rows silent for ``silent_after(refresh)`` are looked at
    for deletion, and only they are deleted, so a process writing meanwhile keeps its
    rows. A process is told by its pid and its start time: a row of a dead one whose
    pid another process took (this one included) goes too. The others, which wrote
    since and are not known gone, are live processes on this database.
    """
    from ...models import LiveSession

    silent_since = dt.datetime.now(tz=dt.UTC) - dt.timedelta(seconds=silent_after(refresh))
    others = (
        LiveSession.objects.exclude(process=process_id, process_started=own_start(os.getpid()))
        .values_list("process", "process_started")
        .annotate(newest=Max("reported"))
        .order_by()
    )
    newest = {(process, started): reported for process, started, reported in others}
    silent = {p for p, reported in newest.items() if reported < silent_since}
    gone = sorted(p for p in silent if process_gone(*p))
    if gone:
        which = Q()
        for process, started in gone:
            which |= Q(process=process, process_started=started)
        LiveSession.objects.filter(reported__lt=silent_since).filter(which).delete()
    # A process killed a moment ago (restarted at once) wrote recently too: it is asked about.
    writing = sorted({p[0] for p in newest if p not in silent and not process_gone(*p)})
    return [process for process, _ in gone], writing


def _clear(process_id: str) -> None:
    from ...models import LiveSession

    LiveSession.objects.filter(process=process_id, process_started=own_start(os.getpid())).delete()


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
        # When (loop time) the rows of killed processes of this machine were last looked
        # for: at the first write, then once per silent spell (not at every refresh).
        self._swept_at: float | None = None
        # Other processes already warned of (running without CLUSTER beside this one).
        self._warned: set[str] = set()

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
            config = docsync_settings()
            timeout = rows_kept_for(float(config.PROCESS_TIMEOUT), float(config.ADMIN_REFRESH))
            try:
                held = await run_sync(_write, self.registry.process_id, changed, gone, timeout)
            except BaseException:
                self._written.clear()  # write everything again next time
                raise
            if held < len(self._written):
                # Another process deleted rows of this one, taking it for stopped (it was
                # silent: its loop stalled, or a process of another pid namespace under
                # the same host name). Rows are written only when they change: without
                # this, an idle session's would stay off the admin's list for good.
                logger.warning(
                    "live-session table: %d of this process's %d rows were deleted by another: written again",
                    len(self._written) - held,
                    len(self._written),
                )
                self._written.clear()
            self.last_write = now = asyncio.get_running_loop().time()
            refresh = float(docsync_settings().ADMIN_REFRESH)
            if self._swept_at is None or now - self._swept_at >= silent_after(refresh):
                self._swept_at = now
                gone, writing = await run_sync(_drop_gone_processes, self.registry.process_id, refresh)
                if gone:
                    logger.info("live-session table: removed the rows of stopped processes %s", ", ".join(gone))
                self._warn_unclustered(writing)
                # Each sweep, and whom it found writing, for who reads the log at DEBUG: what a
                # missing warning or removal was decided on (the tests count these sweeps).
                logger.debug("live-session table: swept; other processes writing: %s", ", ".join(writing) or "none")

    def _warn_unclustered(self, writing: list[str]) -> None:
        """Say once per process (a bounded number) that another process serves this database without CLUSTER."""
        if docsync_settings().CLUSTER:
            return  # the cluster relays each session to the one process that holds it
        for process in writing:
            if process in self._warned or process == self.registry.process_id:
                continue
            if len(self._warned) >= MAX_WARNED_PROCESSES:
                return
            self._warned.add(process)
            logger.warning(
                "process %s also serves this database's sessions and CLUSTER is off: processes share no "
                "sessions, so users of one room on two processes see different documents, a reconnect to "
                "another process starts a fresh session, and the admin lists a room for one process only. "
                'Run one process, or set DOCSYNC["CLUSTER"] with a channel layer on Redis '
                "(docs/howto/scale-out.md).",
                process,
            )

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
