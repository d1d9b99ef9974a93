"""What a connection or a session took in and sent: messages and bytes, counted per frame."""

from __future__ import annotations

__all__ = ["Traffic"]


class Traffic:
    """Counts of the messages and bytes in and out of one connection or one session."""

    # Slots, not a dict of four counts: 64 bytes where the dict took 184, and there is one
    # per connection and one per session (bench/budget.py).
    __slots__ = ("bytes_in", "bytes_out", "messages_in", "messages_out")

    def __init__(self) -> None:
        self.messages_in = self.messages_out = self.bytes_in = self.bytes_out = 0

    def as_dict(self) -> dict[str, int]:
        """The four counts by name (the admin's columns of a live session)."""
        return {
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
        }
