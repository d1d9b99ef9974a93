"""Exceptions raised by docsync.

The tree::

    DocsyncError
    ├── ProtocolError              a frame sequence that is not a valid message    close 1002
    │   └── MessageTooBigError     a frame, message or buffer count over its limit  close 1009
    ├── SerializationError         a value that cannot be encoded
    ├── DeserializationError       JSON or buffers that cannot be decoded safely
    ├── ValidationError            a property value of the wrong type (also a ValueError)
    │   ├── ValueTooDeepError      a value nested deeper than every client decodes (64 JSON levels)
    │   └── IntTooWideError        an integer past 64 bits, which the wire cannot carry
    ├── PatchError                 a patch refused as a whole; the document is unchanged
    │   ├── UnknownModelError      a patch names a model id the document does not hold
    │   ├── UnknownPropertyError   a patch names a property the model does not have
    │   └── NotWritableError       a patch from a client sets a property it may not set
    ├── ConfigurationError         the ``DOCSYNC`` setting is wrong
    ├── SessionGone                a session is not held by this process (admin commands)
    ├── SnapshotError              a session snapshot that cannot be restored, or written for a new session
    └── ConnectionClosingError     the server ends a websocket (each kind: its close code)
        ├── AccessRefusedError     token, origin, user or access rule refused      close 1008
        │   └── TokenError         a token missing, forged, expired or for another app
        ├── NoSuchApplicationError no application at the websocket's path          close 4004
        ├── ApplicationError       the application failed to make the session      close 1011
        │   ├── ApplicationLoadError  the application's code failed to load
        │   └── ApplicationStoppedError  it failed for this session too often         close 4011
        ├── ServerBusyError        this process cannot take the websocket now       close 1013
        │   ├── SessionLimitError  it holds its maximum of sessions
        │   ├── ClientLimitError   the client holds its maximum of sessions or websockets here
        │   ├── DirectoryUnavailableError  the cluster cannot reach a session's owner
        │   ├── IncompleteInputLimitError  it holds its maximum of bytes in incomplete messages
        │   └── StoreUnavailableError  the session store cannot be read or written (persistence)
        ├── StalledMessageError    a message left incomplete too long                close 4408
        ├── SlowReaderError        the client left too many bytes unread             close 4009
        ├── TooManyConnectionsError    the session has its maximum of connections   close 4008
        ├── RateLimitedError       too many patches, or new sessions, per second    close 4029
        ├── SessionExpiredError    the session expired (or an admin ended it)       close 4001
        ├── OwnerGoneError         the process holding the session went away        close 4010
        └── ServerDrainingError    the process is draining (deploy, restart)        close 4012

Each class says, as data, the websocket close code it ends a connection with
(``close_code``), the ``code`` of the ERROR sent before closing (``error_kind``), and what
a client should do next (``client_action``): ``"retry"`` (connect again after a backoff;
resume the session), ``"reconnect"`` (the session's process is gone: connect again now,
through any process) or ``"give-up"`` (trying again cannot help). docs/protocol.md §12
lists them; ``docsync/static/docsync/exceptions.js`` mirrors the tree.

Messages are short lowercase fragments that show the offending value.
"""

from __future__ import annotations

from typing import ClassVar, Literal

__all__ = [
    "AccessRefusedError",
    "ApplicationError",
    "ApplicationLoadError",
    "ApplicationStoppedError",
    "ClientAction",
    "ClientLimitError",
    "ConfigurationError",
    "ConnectionClosingError",
    "DeserializationError",
    "DirectoryUnavailableError",
    "DocsyncError",
    "IncompleteInputLimitError",
    "IntTooWideError",
    "MessageTooBigError",
    "NoSuchApplicationError",
    "NotWritableError",
    "OwnerGoneError",
    "PatchError",
    "ProtocolError",
    "RateLimitedError",
    "SerializationError",
    "ServerBusyError",
    "ServerDrainingError",
    "SessionExpiredError",
    "SessionGone",
    "SessionLimitError",
    "SlowReaderError",
    "SnapshotError",
    "StalledMessageError",
    "StoreUnavailableError",
    "TokenError",
    "TooManyConnectionsError",
    "UnknownModelError",
    "UnknownPropertyError",
    "ValidationError",
    "ValueTooDeepError",
    "closing_errors",
]

#: What a client does after a close: connect again after a backoff and resume, connect
#: again now (any process), or stop.
ClientAction = Literal["retry", "reconnect", "give-up"]


class DocsyncError(Exception):
    """Base class of every docsync exception."""

    #: The websocket close code this error ends a connection with, if it does.
    close_code: ClassVar[int | None] = None
    #: The ``code`` of the ERROR message that reports it, if one does.
    error_kind: ClassVar[str | None] = None
    #: What a client should do after a close with ``close_code``.
    client_action: ClassVar[ClientAction] = "retry"


class ProtocolError(DocsyncError):
    """A frame or frame sequence breaks the wire protocol."""

    close_code: ClassVar[int] = 1002
    error_kind = "close-1002"


class MessageTooBigError(ProtocolError):
    """A frame, a message or its number of buffers is over the receiver's limit."""

    close_code = 1009
    error_kind = "close-1009"


class SerializationError(DocsyncError):
    """A value cannot be encoded for the wire."""


class DeserializationError(DocsyncError):
    """Received JSON or buffers cannot be decoded into trusted values."""


class ValidationError(DocsyncError, ValueError):
    """A property was given a value of the wrong type."""


class ValueTooDeepError(ValidationError):
    """A value nests deeper than every client decodes (``MAX_VALUE_DEPTH``, 64 JSON levels); nothing changed."""


class IntTooWideError(ValidationError):
    """An integer past what the wire carries (-2**63 to 2**64-1) where one would be stored; nothing changed."""


class PatchError(DocsyncError):
    """A patch was refused as a whole; nothing of it was applied."""

    error_kind = "patch-refused"


class UnknownModelError(PatchError):
    """A patch refers to a model id the document does not hold."""


class UnknownPropertyError(PatchError):
    """A patch refers to a property the model does not have."""


class NotWritableError(PatchError):
    """A client patch sets a property the model does not let browsers change."""


class ConfigurationError(DocsyncError):
    """The ``DOCSYNC`` setting is invalid."""


class SessionGone(DocsyncError, LookupError):
    """The session is not held by this process (it expired or lives elsewhere)."""


class SnapshotError(DocsyncError):
    """A session snapshot that cannot be restored (corrupt, foreign, too big), or written for a new session."""


class ConnectionClosingError(DocsyncError):
    """The server ends a websocket: an ERROR naming the reason, then a close with ``close_code``.

    ``detail`` (a traceback, sent only while Django's DEBUG is on) goes into the ERROR.
    """

    close_code: ClassVar[int] = 1011
    error_kind = "close-1011"

    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        super().__init__(reason)
        self.detail = detail

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.error_kind = f"close-{cls.close_code}"

    @property
    def reason(self) -> str:
        """The reason sent with the ERROR and the close frame."""
        return str(self.args[0]) if self.args else ""


class AccessRefusedError(ConnectionClosingError):
    """The token, the origin, the user or the application's access rule refused the websocket."""

    close_code = 1008
    client_action = "give-up"


class TokenError(AccessRefusedError):
    """A token is missing, forged, expired or meant for something else."""


class NoSuchApplicationError(ConnectionClosingError):
    """No application is served at the websocket's path."""

    close_code = 4004
    client_action = "give-up"


class ApplicationError(ConnectionClosingError):
    """The application raised while making the session (its code, a hook)."""

    close_code = 1011


class ApplicationLoadError(ApplicationError):
    """The application's code could not be loaded; no session of it may run."""


class ApplicationStoppedError(ApplicationError):
    """The application failed to make this session several times in a row: it is not tried again."""

    close_code = 4011
    client_action = "give-up"


class ServerBusyError(ConnectionClosingError):
    """This process cannot take the websocket now; trying again later may succeed."""

    close_code = 1013


class SessionLimitError(ServerBusyError):
    """The process holds as many sessions as it may."""


class ClientLimitError(ServerBusyError):
    """The client (a user, or else an address) holds as many sessions or websockets of this process as it may."""


class DirectoryUnavailableError(ServerBusyError):
    """In a cluster, the session directory (Redis) or the owning process cannot be reached."""


class IncompleteInputLimitError(ServerBusyError):
    """The process holds its maximum of bytes in incomplete messages (``MAX_INCOMPLETE_BYTES``)."""


class StoreUnavailableError(ServerBusyError):
    """The session store (persistence) cannot be read or written now; the session is there when it is back."""


class StalledMessageError(ConnectionClosingError):
    """A message stayed incomplete, with no frame of it arriving, for ``INCOMPLETE_MESSAGE_TIMEOUT``."""

    close_code = 4408
    client_action = "retry"


class SlowReaderError(ConnectionClosingError):
    """The client read too slowly: the messages waiting for it passed ``MAX_QUEUED_BYTES``.

    No ERROR precedes this close (the client is not reading); it missed messages, and
    resumes to get them.
    """

    close_code = 4009
    client_action = "retry"


class TooManyConnectionsError(ConnectionClosingError):
    """The session has as many connections as it may."""

    close_code = 4008


class RateLimitedError(ConnectionClosingError):
    """A connection, or all of its client's together, sent messages too fast; or its client made sessions too fast."""

    close_code = 4029


class SessionExpiredError(ConnectionClosingError):
    """The session was destroyed (it expired, or the admin ended it)."""

    close_code = 4001
    client_action = "reconnect"


class OwnerGoneError(ConnectionClosingError):
    """The process holding a relayed websocket's session went away."""

    close_code = 4010
    client_action = "reconnect"


class ServerDrainingError(ConnectionClosingError):
    """The process is draining (a deploy or restart): its sessions were saved; connect again and resume."""

    close_code = 4012
    client_action = "retry"


def closing_errors() -> list[type[DocsyncError]]:
    """Every error class that ends a websocket, most general first (for docs and clients)."""
    found: list[type[DocsyncError]] = [ProtocolError, MessageTooBigError]
    pending: list[type[DocsyncError]] = [ConnectionClosingError]
    while pending:
        cls = pending.pop(0)
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found
