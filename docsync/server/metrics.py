"""This process's figures in Prometheus' text format (served by ``views.metrics``).

Every figure is read from what the registry already holds, without a lock and without
waiting: a scrape costs a walk over the live sessions and nothing else. Each process
answers for itself; in a cluster every process is scraped (docs/howto/scale-out.md).
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .registry import SessionRegistry

__all__ = ["CONTENT_TYPE", "render_metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_STARTED = time.time()


def _resident_bytes() -> int:
    # /proc has the current figure; getrusage only the peak (used where /proc is missing).
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak) * (1 if sys.platform == "darwin" else 1024)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Text:
    """Lines of the exposition format, each family announced once with HELP and TYPE."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> None:
        self.lines.append(f"# HELP docsync_{name} {help_text}")
        self.lines.append(f"# TYPE docsync_{name} {kind}")
        for labels, value in samples:
            shown = int(value) if float(value).is_integer() else round(float(value), 6)
            self.lines.append(f"docsync_{name}{labels} {shown}")


def render_metrics(registry: SessionRegistry) -> str:
    """Return this process's figures: sessions, connections, queues, memory, CPU."""
    contexts = sorted(registry.contexts, key=lambda c: c.path)
    per_app: dict[str, tuple[int, int, int]] = {}
    queued = 0
    for context in contexts:
        live = [s for s in list(context.sessions.values()) if not s.destroyed]
        connections = [c for s in live for c in list(s.connections)]
        queued += sum(int(getattr(c, "queued_bytes", 0)) for c in connections)
        per_app[context.path] = (len(live), len(connections), sum(1 for s in live if not s.connections))

    def by_app(index: int) -> list[tuple[str, float]]:
        return [(f'{{app="{_label(path)}"}}', figures[index]) for path, figures in per_app.items()]

    text = _Text()
    text.family("sessions", "gauge", "Live sessions held by this process.", by_app(0))
    text.family("connections", "gauge", "Open websocket connections to those sessions.", by_app(1))
    text.family("sessions_unused", "gauge", "Live sessions with no connection (expire when unused).", by_app(2))
    text.family(
        "sessions_created_total",
        "counter",
        "Sessions made since the process started.",
        [(f'{{app="{_label(c.path)}"}}', c.sessions_created) for c in contexts],
    )
    text.family(
        "sessions_destroyed_total",
        "counter",
        "Sessions destroyed since the process started.",
        [(f'{{app="{_label(c.path)}"}}', c.sessions_destroyed) for c in contexts],
    )
    text.family("queued_bytes", "gauge", "Bytes waiting to be written to clients.", [("", queued)])
    text.family(
        "incomplete_bytes",
        "gauge",
        "Bytes held in partly received messages.",
        [("", registry.incomplete_bytes.total)],
    )
    keeper = registry.keeper
    text.family(
        "draining", "gauge", "1 while this process drains its sessions.", [("", int(bool(keeper and keeper.draining)))]
    )
    journal_failures = keeper.journal.failures if keeper is not None else 0
    text.family(
        "store_failures_total",
        "counter",
        "Persistence: journal records the store did not take (refused) and snapshots or reads that failed.",
        [('{kind="journal"}', journal_failures), ('{kind="snapshot"}', keeper.failures if keeper is not None else 0)],
    )
    text.family(
        "sessions_reloaded_total",
        "counter",
        "Persistence: sessions dropped because the store did not take a change (made again from the store).",
        [("", keeper.reloaded if keeper is not None else 0)],
    )
    cluster = registry.cluster
    holding, owning, held_back = cluster.relay_figures() if cluster is not None else (0, 0, 0)
    text.family(
        "relayed_connections",
        "gauge",
        "Cluster: websockets relayed to or from another process (side: holding the socket, owning the session).",
        [('{side="holding"}', holding), ('{side="owning"}', owning)],
    )
    text.family(
        "relay_held_back_total",
        "counter",
        "Cluster: relayed messages held back until the owner's session had taken earlier ones (flow control).",
        [("", held_back)],
    )
    text.family(
        "reads_paused_total",
        "counter",
        "Websockets whose reading paused: MAX_QUEUED_BYTES of what they sent waited for their session (daphne;"
        " uvicorn's websockets pause by themselves, uncounted).",
        [("", registry.reads_paused)],
    )
    refused = registry.clients.refused
    text.family(
        "limit_refusals_total",
        "counter",
        "Websockets refused because a limit was reached, by the limit's setting: a process's or a client's, close"
        " 1013 (Bokeh app pages: HTTP 503, or 429 for a client's limit); a session's or a client's share of it,"
        " close 4008 (counted by the process owning the session); a client's share of what it is sent, close 4009;"
        " a client making sessions too fast, close 4029 (Bokeh app pages: 429), by the process making them;"
        " a client's websockets sending too fast together, close 4029, where the socket is held.",
        [
            ('{limit="MAX_SESSIONS"}', registry.session_limit_refusals),
            ('{limit="MAX_SESSIONS_PER_CLIENT"}', refused["sessions"]),
            ('{limit="MAX_CONNECTIONS_PER_CLIENT"}', refused["connections"]),
            ('{limit="NEW_SESSIONS_PER_CLIENT_PER_SECOND"}', registry.new_session_rate.refused),
            *((f'{{limit="{name}"}}', count) for name, count in registry.client_rates.refused.items()),
            *((f'{{limit="{name}"}}', count) for name, count in registry.connection_refusals.items()),
            ('{limit="MAX_INCOMPLETE_BYTES"}', registry.incomplete_bytes.refused),
            ('{limit="MAX_INCOMPLETE_BYTES_PER_CLIENT"}', registry.incomplete_bytes.refused_clients),
            ('{limit="MAX_QUEUED_BYTES_PER_CLIENT"}', registry.queued_shares.refused),
        ],
    )
    text.family("resident_memory_bytes", "gauge", "Resident memory of this process.", [("", _resident_bytes())])
    text.family(
        "cpu_seconds_total", "counter", "CPU time of this process (user + system).", [("", time.process_time())]
    )
    text.family("start_time_seconds", "gauge", "When this module was loaded (Unix time).", [("", _STARTED)])
    return "\n".join(text.lines) + "\n"
