"""Names of the message types, as they appear in the ``msgtype`` header field."""

from __future__ import annotations

__all__ = [
    "ACK",
    "ERROR",
    "MESSAGE_TYPES",
    "OK",
    "PATCH_DOC",
    "PULL_DOC_REPLY",
    "PULL_DOC_REQ",
    "PUSH_DOC",
    "RESUME_REPLY",
    "RESUME_REQ",
    "SERVER_INFO_REPLY",
    "SERVER_INFO_REQ",
]

# The Bokeh protocol's names, kept verbatim so that its clients can talk to docsync.
ACK = "ACK"
OK = "OK"
ERROR = "ERROR"
SERVER_INFO_REQ = "SERVER-INFO-REQ"
SERVER_INFO_REPLY = "SERVER-INFO-REPLY"
PULL_DOC_REQ = "PULL-DOC-REQ"
PULL_DOC_REPLY = "PULL-DOC-REPLY"
PUSH_DOC = "PUSH-DOC"
PATCH_DOC = "PATCH-DOC"

# docsync additions: new names only, never new meanings for the names above.
RESUME_REQ = "RESUME-REQ"
RESUME_REPLY = "RESUME-REPLY"

MESSAGE_TYPES: frozenset[str] = frozenset(
    {
        ACK,
        OK,
        ERROR,
        SERVER_INFO_REQ,
        SERVER_INFO_REPLY,
        PULL_DOC_REQ,
        PULL_DOC_REPLY,
        PUSH_DOC,
        PATCH_DOC,
        RESUME_REQ,
        RESUME_REPLY,
    }
)
