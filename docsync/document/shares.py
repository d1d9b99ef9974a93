"""The documents of one client's sessions together, under ``MAX_DOCUMENT_BYTES_PER_CLIENT``.

``MAX_DOCUMENT_BYTES`` bounds what clients may make of one document, but one client may
make ``MAX_SESSIONS_PER_CLIENT`` sessions and grow each to that bound. A
:class:`ClientDocuments` counts the documents of every session one client made (each
charged to its maker, whoever sends the change), each at its size as its last client
change left it; a :class:`DocumentShare` is one document's part of that count. A
client's change that grows its document is refused when the count would pass the cap,
as one that would take the document past ``MAX_DOCUMENT_BYTES`` is. The application's
own changes are not refused, as for ``MAX_DOCUMENT_BYTES``: they count from the next
client change of the session.

Each check is a subtraction, an addition and a comparison under the client's own
lock (two sessions of a client may apply changes in two worker threads at once): no
other session is read, locked or waited for. :class:`DocumentShares` keeps each client's
count while it has a session (a process's, by server/clients.py's key).
"""

from __future__ import annotations

import threading

from ..exceptions import PatchError

__all__ = ["ClientDocuments", "DocumentShare", "DocumentShares"]


class ClientDocuments:
    """The bytes of the documents of one client's sessions together, and their cap."""

    __slots__ = ("cap", "held", "key", "lock", "sessions", "shares")

    def __init__(self, shares: DocumentShares, key: str, cap: int) -> None:
        self.shares = shares
        self.key = key
        self.cap = cap
        #: The documents' sizes as their last client change left them, all together.
        self.held = 0
        #: Sessions counted (the entry goes when the last one leaves).
        self.sessions = 0
        self.lock = threading.Lock()


class DocumentShare:
    """One session's document, counted against the client that made the session."""

    __slots__ = ("client", "counted", "uploading")

    def __init__(self, client: ClientDocuments) -> None:
        self.client: ClientDocuments | None = client
        #: The document's bytes in ``client.held``.
        self.counted = 0
        #: The bytes announced by the session's uploads in progress, in ``client.held`` too:
        #: held in memory until each finishes, however many sessions the client made.
        self.uploading = 0

    def uploads_fit(self, after: int) -> bool:
        """Tell whether uploads in progress of ``after`` bytes keep the client within the cap (not counted)."""
        client = self.client
        return client is None or after <= self.uploading or client.held - self.uploading + after <= client.cap

    def count_uploads(self, after: int) -> None:
        """Count the session's uploads in progress at ``after`` bytes (checked before: ``uploads_fit``)."""
        client = self.client
        if client is None:
            return
        with client.lock:
            if self.client is not client:
                return
            client.held += after - self.uploading
            self.uploading = after

    def fits(self, after: int) -> bool:
        """Tell whether the document at ``after`` bytes keeps its client within the cap (not counted)."""
        client = self.client
        return client is None or client.held - self.counted + after <= client.cap

    def count(self, before: int, after: int) -> None:
        """Count the document at ``after`` bytes (``before``: now); refuse (PatchError) growth past the cap."""
        client = self.client
        if client is None:
            return
        with client.lock:
            if self.client is not client:
                return  # released meanwhile (its session ended while a worker thread applied a change)
            held = client.held - self.counted + after
            if held > client.cap and after > before:
                raise PatchError(
                    f"this client's documents too large: {held} > {client.cap} bytes (MAX_DOCUMENT_BYTES_PER_CLIENT)"
                )
            client.held = held
            self.counted = after

    def release(self) -> None:
        """Give the document's bytes back (its session ended, on the event loop); later calls and counts do nothing."""
        client = self.client
        if client is None:
            return
        with client.lock:
            self.client = None
            client.held -= self.counted + self.uploading
            self.counted = self.uploading = 0
        client.sessions -= 1
        if client.sessions <= 0 and client.shares.by_client.get(client.key) is client:
            del client.shares.by_client[client.key]  # a client gone leaves nothing behind


class DocumentShares:
    """The documents of each client with a session on this process (use on its event loop)."""

    def __init__(self) -> None:
        self.by_client: dict[str, ClientDocuments] = {}

    def join(self, key: str | None, cap: int | None) -> DocumentShare | None:
        """Count one more session of ``key`` against ``cap``; return its share (None: not counted)."""
        if key is None or cap is None:
            return None
        client = self.by_client.get(key)
        if client is None:
            client = self.by_client[key] = ClientDocuments(self, key, cap)
        client.cap = cap
        client.sessions += 1
        return DocumentShare(client)
