"""A restored Bokeh session keeps its models' ids: one grown past MAX_SNAPSHOT_BYTES comes back after a kill -9.

Real daphne processes, SQLite or a private redis-server, and a client speaking Bokeh's
protocol (test_bokeh_sessions.py's). A restored session used to take this process's ids,
so it was saved again before anyone saw it; past ``MAX_SNAPSHOT_BYTES`` that save failed
and the session was refused (1011) at every restore until its snapshot expired. Now the
snapshot and the journal describe the restored document id for id: nothing is saved
again, and the tabs' ids still name the same models. Datetime columns come back as
Bokeh's own JSON holds them (milliseconds, float64), as the tabs hold them too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("bokeh", reason="the docsync[bokeh] extra is not installed")

from docsync.testing import RedisServer

from .conftest import Site
from .test_bokeh_sessions import SETTINGS, BokehWire, _objects, _reconnect, named, open_page, python_values

APP = "bk_column_edits"  # a source per column kind (tests/bokeh/gallery/column_edits.py)
#: Its first snapshot is about 15 KB: the session is made, and outgrows this.
LIMIT = 40_000
ROWS = 1000  # float64 rows a stream adds: 8 KB, a record well under the limit


def _site(stack: contextlib.ExitStack, tmp_path: Path, store: str, **env: str) -> Site:
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS, **env}
    if store == "redis":
        redis = stack.enter_context(RedisServer())
        # A cluster of one: the process started again waits out the dead one's liveness
        # (2 x PROCESS_TIMEOUT); 1 s as test_bokeh_sessions.py's.
        env |= {"DOCSYNC_PERSISTENCE": "redis", "DOCSYNC_REDIS_URL": redis.url, "DOCSYNC_PROCESS_TIMEOUT": "1.0"}
    site = Site(tmp_path, kind="daphne", **env)
    stack.callback(site.stop)
    return site


@pytest.fixture(params=["database", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _array(values: np.ndarray[Any, Any]) -> dict[str, Any]:
    """An ndarray as Bokeh's JSON writes one inline: gzip, then base64."""
    data = base64.b64encode(gzip.compress(values.tobytes())).decode()
    return {
        "type": "ndarray",
        "array": {"type": "bytes", "data": data},
        "shape": list(values.shape),
        "dtype": str(values.dtype),
        "order": "little",
    }


def _stream(source: str, rows: Any, column: str = "v") -> dict[str, Any]:
    data = {"type": "map", "entries": [[column, rows]]}
    return {"kind": "ColumnsStreamed", "model": {"id": source}, "attr": "data", "data": data, "rollover": None}


def _patch_cell(source: str, index: int, value: float, column: str = "v") -> dict[str, Any]:
    patches = {"type": "map", "entries": [[column, [[index, value]]]]}
    return {"kind": "ColumnsPatched", "model": {"id": source}, "attr": "data", "patches": patches}


async def _ok(wire: BokehWire, *events: dict[str, Any]) -> None:
    header, content = await wire.reply_to(await wire.send("PATCH-DOC", {"events": list(events)}))
    assert header["msgtype"] == "OK", content


def _plain(value: Any) -> Any:
    """Bokeh's document JSON with each inline array read (its gzip bytes differ from one encoding to the next)."""
    if isinstance(value, dict):
        array = value.get("array") if value.get("type") == "ndarray" else None
        if isinstance(array, dict) and isinstance(array.get("data"), str):
            raw = gzip.decompress(base64.b64decode(array["data"]))
            return ("ndarray", value["dtype"], tuple(value["shape"]), np.frombuffer(raw, value["dtype"]).tolist())
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _ids(doc: Any) -> set[str]:
    return {model["id"] for model in _objects(doc)}


def _column(doc: Any, name: str) -> list[Any]:
    (entry,) = _plain(named(doc, name)["attributes"]["data"])["entries"]
    return list(entry[1][3])


async def _held(site: Site, token: str, app: str = APP) -> dict[str, Any]:
    """What a tab opened now holds: its pull (a second connection's: arrays inline, as after a restore)."""
    tab = await BokehWire.open(site, app, token)
    doc = await tab.pull()
    await tab.socket.close()
    return doc


def _wait_for(site: Site, text: str) -> None:
    # The writer's round (SNAPSHOT_INTERVAL, 0.2 s) logs it; bounded in count.
    for _ in range(300):
        if text in site.log():
            return
        time.sleep(0.1)
    raise AssertionError(f"never logged: {text}")


def test_a_bokeh_session_grown_past_max_snapshot_bytes_is_restored_under_its_ids(store: str, tmp_path: Path) -> None:
    """It was refused (1011, "snapshot too big") at every restore: its restored models had new ids to save."""
    with contextlib.ExitStack() as stack:
        site = _site(stack, tmp_path, store, DOCSYNC_MAX_SNAPSHOT_BYTES=str(LIMIT)).start()
        token, session_id = open_page(site, APP)  # its first snapshot fits

        async def grow() -> tuple[dict[str, Any], dict[str, Any]]:
            wire = await BokehWire.open(site, APP, token)
            first = await wire.pull()
            source = named(first, "float64")["id"]
            for n in range(5):
                await _ok(wire, _stream(source, _array(np.arange(ROWS, dtype=np.float64) + n * ROWS)))
            await wire.socket.close()
            return first, await _held(site, token)

        first, held = asyncio.run(grow())
        _wait_for(site, f"session {session_id} of {APP} not saved: snapshot too big: over {LIMIT} bytes")
        assert len(_column(held, "float64")) == 3 + 5 * ROWS
        site.server.kill()  # kill -9: the journal holds every change since the last snapshot that fitted
        site.start()

        async def restored() -> dict[str, Any]:
            wire, doc = await _reconnect(site, APP, token)
            # The tab's ids still name its models: a change by the id it held before the kill.
            await _ok(wire, _stream(named(first, "float64")["id"], _array(np.array([-1.0, -2.0]))))
            await wire.socket.close()
            return doc

        doc = asyncio.run(restored())
        assert _ids(doc) == _ids(held) and _ids(first) <= _ids(doc)
        assert _plain(doc) == _plain(held)  # every acknowledged change, as the tab held it
        log = site.log()
        assert f"Bokeh session {session_id} of {APP} restored (" in log
        assert "refused" not in log
        # The restored session's own changes join the same journal: a second kill -9 keeps them.
        site.server.kill()
        site.start()
        again = asyncio.run(_held_after_restore(site, token))
        assert _ids(again) == _ids(held)
        assert _column(again, "float64") == [*_column(held, "float64"), -1.0, -2.0]
        assert len(python_values(site, APP, "float64", "data.v", session_id)[0]) == 3 + 5 * ROWS + 2


async def _held_after_restore(site: Site, token: str, app: str = APP) -> dict[str, Any]:
    wire, doc = await _reconnect(site, app, token)
    await wire.socket.close()
    return doc


#: 2024-01-05T12:00, 2024-02-01 and 2024-03-01 as BokehJS holds datetimes: milliseconds since the epoch.
NOON_JAN_5, FEB_1, MAR_1 = 1704456000000.0, 1706745600000.0, 1709251200000.0
DEC_7_2026 = 1796601600000.0
DAY = 86_400_000.0


def _server_dates(site: Site, session_id: str) -> tuple[list[float], str]:
    """The server's column of dates (as milliseconds, tests/bokeh/urls.py's ``sources``) and its dtype."""
    url = f"{site.url}_test/bokeh/bk_dates/sources?session={session_id}"
    with urllib.request.urlopen(url, timeout=30) as response:
        column = json.loads(response.read())["sources"]["dates"]["t"]
    return list(column["values"]), str(column["type"])


@pytest.mark.parametrize("store", ["database"], indirect=True)
def test_a_restored_datetime64_column_holds_what_the_tabs_hold(store: str, tmp_path: Path) -> None:
    """Bokeh's JSON holds a datetime64 column as float64 milliseconds, and read back they stayed float64:
    the app's own np.datetime64 patched in after a restore became its nanosecond count (1.8e18) in the
    server's document where the tabs held its milliseconds. The snapshot and the journal name the column's
    dtype: restored, it is datetime64 again, the journal's milliseconds (as BokehJS holds them) in it."""
    with contextlib.ExitStack() as stack:
        # A snapshot only when the session is made: every change is replayed from the journal.
        site = _site(stack, tmp_path, store, DOCSYNC_SNAPSHOT_INTERVAL="30").start()
        token, session_id = open_page(site, "bk_dates")

        async def edit(events: list[dict[str, Any]], day: str | None = None) -> dict[str, Any]:
            wire, doc = await _reconnect(site, "bk_dates", token)
            source = named(doc, "dates")["id"]
            for event in events:
                await _ok(wire, {**event, "model": {"id": source}})
            if day is not None:
                await wire.set_value(named(doc, "day")["id"], day)  # the app's callback writes datetimes
            await wire.socket.close()
            return await _held(site, token, "bk_dates")

        held = asyncio.run(edit([_patch_cell("", 1, NOON_JAN_5, "t"), _stream("", [FEB_1], "t")]))
        assert _column(held, "dates") == [1704067200000.0, NOON_JAN_5, 1704240000000.0, FEB_1]
        site.server.kill()
        site.start()
        doc = asyncio.run(_held_after_restore(site, token, "bk_dates"))
        assert _plain(doc) == _plain(held)
        assert _server_dates(site, session_id) == (_column(held, "dates"), "datetime64[ns]")

        # Written once restored, by a tab (milliseconds) and by the app (np.datetime64), then restored again.
        held = asyncio.run(edit([_patch_cell("", 2, MAR_1, "t")], day="2026-12-07"))
        assert _column(held, "dates") == [DEC_7_2026, NOON_JAN_5, MAR_1, FEB_1, DEC_7_2026 + DAY]
        assert _server_dates(site, session_id) == (_column(held, "dates"), "datetime64[ns]")
        site.server.kill()
        site.start()
        doc = asyncio.run(_held_after_restore(site, token, "bk_dates"))
        assert _plain(doc) == _plain(held)
        assert _server_dates(site, session_id) == (_column(held, "dates"), "datetime64[ns]")


def _titled(doc: Any, title: str) -> dict[str, Any]:
    (model,) = [m for m in _objects(doc) if m.get("attributes", {}).get("title") == title]
    return model


def test_a_bokeh_input_a_callback_renamed_keeps_its_callback_and_so_does_the_one_given_its_name(
    tmp_path: Path,
) -> None:
    """The slider's callback renames input "a" to None and names the unnamed one "a"; kill -9, restore.

    Matched by the names the snapshot held, the second came back running a's callback and
    the first none: the snapshot records the names the app built its models with.
    """
    app = "bk_renamed"
    with contextlib.ExitStack() as stack:
        site = _site(stack, tmp_path, "database").start()
        token, session_id = open_page(site, app)

        async def rename() -> None:
            wire = await BokehWire.open(site, app, token)
            doc = await wire.pull()
            await wire.set_value(named(doc, "renames")["id"], 1)
            await wire.socket.close()
            held = await _held(site, token, app)
            assert named(held, "a")["attributes"]["title"] == "second"  # the callback renamed them

        asyncio.run(rename())
        site.server.kill()  # kill -9: the journal holds the renames
        second = site.start().server

        async def restored() -> list[str]:
            wire, doc = await _reconnect(site, app, token)
            echoes = []
            for title in ("second", "first"):
                await wire.set_value(_titled(doc, title)["id"], f"{title} after the restore")
                echoes.append(named(await _held(site, token, app), "echo")["attributes"]["text"])
            await wire.socket.close()
            return echoes

        # Before: "first's saw second ...", then the first's change ran no callback.
        assert asyncio.run(restored()) == [
            f"second's saw second after the restore pid={second.pid}",
            f"first's saw first after the restore pid={second.pid}",
        ]
        assert f"Bokeh session {session_id} of {app} restored (" in site.log()
