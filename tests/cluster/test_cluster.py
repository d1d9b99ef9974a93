"""Scale-out over channels-redis: real redis-server, three real daphne processes.

One cluster for the module, shared by its tests in file order: each works in sessions
of its own; the Redis restart and then the killed process come last.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import http.cookiejar
import json
import re
import time
import urllib.request
from typing import Any

import pytest
import websockets
from django.core import signing

from docsync.client import ClientSession
from docsync.protocol.msgtypes import PATCH_DOC
from docsync.testing import EVENT_WAIT, RawSocket
from project.settings import DEMO_SECRET_KEY

from .conftest import PROCESS_TIMEOUT, AdminBrowser, Cluster, connect, run, set_slider_and_wait

pytestmark = pytest.mark.cluster


def test_relayed_websockets_reach_the_one_owner(cluster: Cluster) -> None:
    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)  # the page comes from process 0
        session_id = config["sessionId"]
        owner = cluster.servers[1]
        first = await connect(config, cluster.ws_url("counted", 1))  # the websocket lands on process 1
        assert (await set_slider_and_wait(first, 5)).endswith(f"pid={owner.pid}")
        relayed = await connect(config, cluster.ws_url("counted", 2))  # reconnecting elsewhere: relayed
        assert relayed.document.get_model_by_name("slider").value == 5  # type: ignore[union-attr]
        assert (await set_slider_and_wait(relayed, 7)).endswith(f"pid={owner.pid}")
        slider = first.document.get_model_by_name("slider")
        await first.wait_for(lambda: slider.value == 7, EVENT_WAIT)  # type: ignore[union-attr]
        third = await connect(config, cluster.ws_url("counted", 0))  # and yet another process
        assert (await set_slider_and_wait(third, 9)).endswith(f"pid={owner.pid}")
        await relayed.wait_for(lambda: relayed.document.get_model_by_name("slider").value == 9, EVENT_WAIT)  # type: ignore[union-attr]
        assert cluster.runs(session_id) == [str(owner.pid)]  # app code ran once, in the owner
        assert cluster.runs(session_id, "on_session_created") == [str(owner.pid)]
        for client in (first, relayed, third):
            await client.close()

    run(scenario())


def test_an_anonymous_session_is_its_browsers_on_every_process(cluster: Cluster) -> None:
    """The visitor binding holds wherever a websocket lands: checked there, relayed to the owner."""

    def page(jar: http.cookiejar.CookieJar, index: int, query: str = "") -> dict[str, Any]:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with opener.open(cluster.servers[index].url + f"counted/{query}", timeout=30) as answer:
            html = answer.read().decode()
        found = re.search(r'<script id="docsync-config" type="application/json">(.*?)</script>', html, re.S)
        assert found is not None
        return dict(json.loads(found.group(1)))

    def cookie(jar: http.cookiejar.CookieJar) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in jar)}

    async def refusal(url: str, token: str, headers: dict[str, str]) -> tuple[int | None, list[str]]:
        sock = await RawSocket.connect(url, token, headers=headers)
        with contextlib.suppress(websockets.ConnectionClosed):
            await sock.read_message()
        return (await sock.until_closed()).code, sock.errors()

    async def scenario() -> None:
        a, b = http.cookiejar.CookieJar(), http.cookiejar.CookieJar()
        await asyncio.to_thread(page, a, 0)  # A's first page saves its visitor (the shared database)
        mine = await asyncio.to_thread(page, a, 0)  # ... so this token is bound to A's browser
        first = ClientSession(dict(mine, wsUrl=cluster.ws_url("counted", 1)), headers=cookie(a))
        await first.connect()  # process 1 owns the session
        try:
            relayed = ClientSession(dict(mine, wsUrl=cluster.ws_url("counted", 2)), headers=cookie(a))
            await relayed.connect()  # A's browser on process 2: relayed to the owner
            assert (await set_slider_and_wait(relayed, 4)).endswith(f"pid={cluster.servers[1].pid}")
            await relayed.close()
            # A's token from B's browser, on a process that does not own the session: refused there.
            theirs = await asyncio.to_thread(page, b, 2)
            assert await refusal(cluster.ws_url("counted", 2), mine["token"], cookie(b)) == (
                1008,
                ["token belongs to another user or a closed login"],
            )
            # A token for A's session bound to B (no page issues one: signed here with the servers'
            # key): process 2 passes it (B's browser), the owner refuses it (the visitor was relayed).
            payload = {"sid": mine["sessionId"], "app": "counted", "uid": None, "args": {}}
            payload["vis"] = token_payload(theirs["token"])["vis"]
            signer = signing.TimestampSigner(
                key=DEMO_SECRET_KEY, salt="docsync.session-token", sep=".", fallback_keys=[]
            )
            forged = signer.sign_object(payload)
            assert await refusal(cluster.ws_url("counted", 2), forged, cookie(b)) == (
                1008,
                ["session belongs to another user"],
            )
            assert first.document.get_model_by_name("slider").value == 4  # type: ignore[union-attr]
        finally:
            await first.close()

    run(scenario())


def token_payload(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def test_a_new_session_id_at_two_processes_at_once_is_created_once(cluster: Cluster) -> None:
    async def scenario() -> None:
        for _ in range(5):
            config = await asyncio.to_thread(cluster.page_config, "counted", 0)
            one, two = await asyncio.gather(
                connect(config, cluster.ws_url("counted", 1)), connect(config, cluster.ws_url("counted", 2))
            )
            assert len(cluster.runs(config["sessionId"])) == 1
            await set_slider_and_wait(one, 42)
            await two.wait_for(lambda t=two: t.document.get_model_by_name("slider").value == 42, EVENT_WAIT)  # type: ignore[union-attr,misc]
            await one.close()
            await two.close()

    run(scenario())


def _news_received(client: object) -> list[str]:
    texts = []
    for message in client.received:  # type: ignore[attr-defined]
        if message.msgtype != PATCH_DOC:
            continue
        for event in message.content.get("events", []):
            if event.get("kind") == "MessageSent" and event.get("msg_type") == "news":
                texts.append(event["msg_data"]["text"])
    return texts


def test_broadcast_reaches_sessions_in_every_process(cluster: Cluster) -> None:
    async def scenario() -> None:
        clients = []
        for index in range(3):
            config = await asyncio.to_thread(cluster.page_config, "counted", index)
            clients.append(await connect(config, cluster.ws_url("counted", index)))
        pids = set()
        for client in clients:
            pids.add((await set_slider_and_wait(client, 3)).split("pid=")[1])
        assert len(pids) == 3  # one session held by each process
        clients[0].document.send_message("broadcast-request", "new data arrived")
        await clients[0].sync(EVENT_WAIT)
        for client in clients:
            await client.wait_for(lambda c=client: _news_received(c) == ["new data arrived"], EVENT_WAIT)
        for client in clients:
            await client.close()

    run(scenario())


def test_broadcasts_from_sync_and_async_callbacks_reach_every_session_in_order(cluster: Cluster) -> None:
    # Two sessions in process 0 (the caller's among them: its lock is held while its
    # callback broadcasts), one in process 1, and a relayed tab of the caller's session.
    async def scenario() -> None:
        clients = []
        for index in (0, 0, 1):
            config = await asyncio.to_thread(cluster.page_config, "counted", index)
            clients.append(await connect(config, cluster.ws_url("counted", index)))
            await set_slider_and_wait(clients[-1], 4)
        clients.append(await connect(clients[0].config, cluster.ws_url("counted", 2)))  # relayed to process 0
        expected = []
        for n in range(4):
            kind = "-sync" if n % 2 else ""
            clients[0].document.send_message(f"broadcast-request{kind}", f"item {n}")
            await clients[0].sync(EVENT_WAIT)
            expected.append(f"sync item {n}" if kind else f"item {n}")
        for client in clients:
            await client.wait_for(lambda c=client: _news_received(c) == expected, EVENT_WAIT)  # type: ignore[misc]
        for client in clients:
            await client.close()

    run(scenario())


def test_admin_lists_every_process_and_its_actions_reach_the_owner(cluster: Cluster) -> None:
    async def scenario() -> None:
        clients, configs = [], []
        for index in range(3):
            config = await asyncio.to_thread(cluster.page_config, "counted", index)
            configs.append(config)
            clients.append(await connect(config, cluster.ws_url("counted", index)))
            await set_slider_and_wait(clients[-1], 10 + index)
        admin = AdminBrowser(cluster.servers[0].url)
        await asyncio.to_thread(admin.login)
        deadline = time.monotonic() + EVENT_WAIT
        rows: list[tuple[str, str]] = []
        while time.monotonic() < deadline:
            rows = await asyncio.to_thread(admin.session_rows)
            if len({process for _, process in rows}) >= 3:
                break
            await asyncio.sleep(0.3)
        processes = {process for _, process in rows}
        assert {str(s.pid) for s in cluster.servers} <= {p.rsplit(":", 1)[-1] for p in processes}
        # The detail page of a session held by process 2, asked through process 0.
        target = configs[2]["sessionId"]
        detail = await asyncio.to_thread(admin.get, f"admin/docsync/livesession/{target}/live/")
        assert "Connections (1)" in detail and "Slider" in detail
        await asyncio.to_thread(
            admin.post, f"admin/docsync/livesession/{target}/live/", {"action": "notice", "text": "hello from admin"}
        )
        await clients[2].wait_for(lambda: clients[2].notices == [{"text": "hello from admin"}], EVENT_WAIT)
        await asyncio.to_thread(admin.post, f"admin/docsync/livesession/{target}/live/", {"action": "expire"})
        await clients[2].wait_for(lambda: clients[2].close_code == 4001, EVENT_WAIT)
        for client in clients[:2]:
            await client.close()

    run(scenario())


def test_a_redis_restart_is_survived(cluster: Cluster) -> None:
    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)
        held = await connect(config, cluster.ws_url("counted", 1))
        await set_slider_and_wait(held, 20)
        port = cluster.redis.port
        cluster.redis.stop()
        # Without Redis, the process keeps serving the sessions it holds.
        for value in (21, 22, 23):
            assert (await set_slider_and_wait(held, value)).endswith(f"pid={cluster.servers[1].pid}")
        cluster.redis.port = port
        cluster.redis.start()
        # After the restart, heartbeats re-register processes and re-assert ownership,
        # so a websocket landing elsewhere is relayed to the same owner again.
        deadline = time.monotonic() + PROCESS_TIMEOUT * 4
        relayed = None
        while time.monotonic() < deadline:
            try:
                relayed = await connect(config, cluster.ws_url("counted", 2))
                break
            except Exception:
                await asyncio.sleep(0.5)
        assert relayed is not None, "no relay after the Redis restart"
        assert relayed.document.get_model_by_name("slider").value == 23  # type: ignore[union-attr]
        assert (await set_slider_and_wait(relayed, 24)).endswith(f"pid={cluster.servers[1].pid}")
        assert cluster.runs(config["sessionId"]) == [str(cluster.servers[1].pid)]
        fresh = await connect(await asyncio.to_thread(cluster.page_config, "counted", 2), cluster.ws_url("counted", 0))
        await set_slider_and_wait(fresh, 5)
        for client in (held, relayed, fresh):
            await client.close()

    run(scenario())


def test_clients_of_a_killed_process_recover_and_its_rows_disappear(cluster: Cluster) -> None:
    async def scenario() -> None:
        config = await asyncio.to_thread(cluster.page_config, "counted", 0)
        victim = cluster.servers[1]
        direct = await connect(config, cluster.ws_url("counted", 1))
        relayed = await connect(config, cluster.ws_url("counted", 2))
        await set_slider_and_wait(relayed, 11)
        admin = AdminBrowser(cluster.servers[0].url)
        await asyncio.to_thread(admin.login)
        victim_pid = str(victim.pid)
        victim.kill()
        killed_at = time.monotonic()
        await direct.wait_for(lambda: direct.close_code == 1006, EVENT_WAIT)
        # The relay notices the owner is gone within a heartbeat of its liveness expiring.
        await relayed.wait_for(lambda: relayed.close_code == 4010, PROCESS_TIMEOUT * 3)
        # Reconnecting through another process resumes into a fresh session there.
        direct.config["wsUrl"] = cluster.ws_url("counted", 2)
        await direct.reconnect()
        assert direct.resumed_fresh is True
        text = await set_slider_and_wait(direct, 12)
        assert text.endswith(f"pid={cluster.servers[2].pid}")
        relayed.config["wsUrl"] = cluster.ws_url("counted", 0)
        await relayed.reconnect()
        await relayed.wait_for(lambda: relayed.document.get_model_by_name("slider").value == 12, EVENT_WAIT)  # type: ignore[union-attr]
        runs = cluster.runs(config["sessionId"])
        assert runs == [victim_pid, str(cluster.servers[2].pid)]
        deadline = killed_at + PROCESS_TIMEOUT * 4
        while time.monotonic() < deadline:
            rows = await asyncio.to_thread(admin.session_rows)
            if not any(process.endswith(f":{victim_pid}") for _, process in rows):
                break
            await asyncio.sleep(0.3)
        else:
            pytest.fail("the killed process's sessions stayed in the admin")
        await direct.close()
        await relayed.close()

    run(scenario())
