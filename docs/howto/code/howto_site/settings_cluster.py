"""Scale-out: several processes share the sessions over Redis; any load balancer, no stickiness."""

import os

from .settings import *  # noqa: F403

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        # No socket timeout: channels-redis's blocking reads wait longer than redis-py's default.
        "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None}], "capacity": 1000},
    }
}
# PEER_ADDRESS: relayed websockets go straight to the owning process, on a route between
# processes (any free port of this address: one the other processes can reach).
DOCSYNC = {**DOCSYNC, "CLUSTER": True, "PEER_ADDRESS": os.environ.get("PEER_ADDRESS", "127.0.0.1:0")}  # noqa: F405
# Production also moves DATABASES to PostgreSQL: every process must see the same users and sessions.
