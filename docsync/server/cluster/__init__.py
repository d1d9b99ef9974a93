"""Scale-out: several processes joined by Redis, without sticky sessions.

- ``directory``: ownership claims and process liveness keys in Redis.
- ``liveness``: the heartbeat that keeps them, and notices dead peers.
- ``relay_out`` / ``relay_in``: both ends of a websocket relayed to its session's owner.
- ``admin_rpc``: admin commands run in the process that holds the session.
- ``broadcast``: a message to every session of an app, in every process.
- ``wire``: what travels on a process's channel.
- ``membership``: :class:`Cluster`, the parts fed by this process's channel.
"""

from __future__ import annotations

from .membership import Cluster, ensure_cluster

__all__ = ["Cluster", "ensure_cluster"]
