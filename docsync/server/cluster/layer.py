"""channels-redis's core layer in two Redis round trips per message instead of eight (the relay's layer).

Every relayed message is one channel-layer send and one receive. The stock layer sends
in four round trips (drop expired messages, count, add, refresh the expiry) and
receives in four (put back what a cancelled receive left in a backup, block, back the
message up, clear the backup). Here a send is one script doing the same four steps
atomically, and a receive is one blocking pop. What is stored, where, and with what
expiry and capacity is unchanged, so processes of either layer share one Redis.

The backup is left out: it is written only after the blocking pop returns, so a receive
cancelled while the pop is in flight loses that message with the stock layer too; the
cluster cancels its one receive only when the process stops.

    CHANNEL_LAYERS = {"default": {"BACKEND": "docsync.server.cluster.layer.RedisChannelLayer", ...}}
"""

from __future__ import annotations

import time
from typing import Any

from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as CoreLayer

__all__ = ["RedisChannelLayer"]

# KEYS: the channel's sorted set. ARGV: drop scores up to this, capacity, score, message, ttl (s).
_SEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisChannelLayer(CoreLayer):  # type: ignore[misc]  # channels-redis ships no types
    """The core layer of channels-redis, sending in one round trip and receiving in one."""

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        """Send ``message`` on ``channel``; raise ChannelFull at the channel's capacity."""
        assert isinstance(message, dict), "message is not a dict"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        assert "__asgi_channel__" not in message
        key = channel
        if "!" in channel:  # a process-local channel: its full name travels in the message
            message = {**message, "__asgi_channel__": channel}
            key = self.non_local_name(channel)
            index = self.consistent_hash(channel)
        else:
            index = next(self._send_index_generator)
        now = time.time()
        added = await self.connection(index).eval(
            _SEND,
            1,
            self.prefix + key,
            int(now) - int(self.expiry),
            self.get_capacity(channel),
            repr(now),
            self.serialize(message),
            int(self.expiry),
        )
        if not added:
            raise ChannelFull()

    async def receive_single(self, channel: str) -> tuple[str, dict[str, Any]]:
        """Take the oldest message of ``channel``, waiting for one; return its full channel name and it."""
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        if "!" in channel:
            assert channel.endswith("!")
            index = self.consistent_hash(channel)
        else:
            index = next(self._receive_index_generator)
        connection = self.connection(index)
        popped = None
        while popped is None:  # None: nothing came within brpop_timeout; block again
            popped = await connection.bzpopmin(self.prefix + channel, timeout=self.brpop_timeout)
        message: dict[str, Any] = self.deserialize(popped[1])
        return message.pop("__asgi_channel__", channel), message
