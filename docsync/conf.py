"""The ``DOCSYNC`` setting, read lazily and reset when tests override settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.signals import setting_changed
from django.dispatch import receiver

__all__ = ["DEFAULTS", "Settings", "docsync_settings", "reset_settings"]

#: Every key of ``DOCSYNC`` with its default. Times are in seconds.
DEFAULTS: dict[str, Any] = {
    # app path -> dotted path of an Application, a function(doc), a module with `app`,
    # or a filesystem path (.py script, .json document, directory); or a dict with
    # "app" plus per-app options (server/app_loader.py's APP_OPTIONS; the README's APPS row).
    "APPS": {},
    "UNUSED_SESSION_LIFETIME": 15.0,
    "CHECK_UNUSED_SESSIONS": 5.0,
    "SESSION_TOKEN_EXPIRATION": 300.0,  # seconds a page's token may create a session
    "SESSION_TOKEN_REUSE": 86400.0,  # seconds a token may reattach to a live session
    "ALLOWED_ORIGINS": [],  # besides ALLOWED_HOSTS; "host:port" or "*"
    "MAX_FRAME_BYTES": 16 * 1024 * 1024,
    "MAX_MESSAGE_BYTES": 64 * 1024 * 1024,
    "MAX_BUFFERS": 1024,
    # JSON arrays and objects in one frame from a client, counted as its "[" and "{"
    # (close 1009): a message's cost on the event loop grows with its values, not its bytes.
    "MAX_FRAME_CONTAINERS": 100_000,
    # And JSON values, counted as the commas between them outside strings (close 1009).
    "MAX_FRAME_VALUES": 1_100_000,
    # What clients may make of a document, so that a pull of it always fits the wire
    # limits (None: MAX_MESSAGE_BYTES // 2 and MAX_FRAME_BYTES); see docs/protocol.md §11.
    "MAX_DOCUMENT_BYTES": None,
    "MAX_COLUMN_BYTES": None,
    # What the documents of all sessions one client (as below) made may hold together, as
    # their clients' changes left them: a change past it is refused (None: no limit).
    "MAX_DOCUMENT_BYTES_PER_CLIENT": 256 * 1024 * 1024,
    "MAX_INCOMPLETE_BYTES": 256 * 1024 * 1024,  # every connection's incomplete messages together
    # Of those, how many one client (as below) may hold: at least MAX_MESSAGE_BYTES, one
    # largest message in progress (close 1013; None: no limit).
    "MAX_INCOMPLETE_BYTES_PER_CLIENT": 64 * 1024 * 1024,
    "INCOMPLETE_MESSAGE_TIMEOUT": 30.0,  # seconds a message may wait for its next frame
    # Per connection, the bytes of messages waiting to be written behind the one being
    # written; a client that reads more slowly is closed with 4009 and resumes later.
    "MAX_QUEUED_BYTES": 8 * 1024 * 1024,
    # Of those, what all websockets of one client (as below) may hold together, the
    # messages being written and what the server's transport holds of them included
    # (close 4009; None: no limit).
    "MAX_QUEUED_BYTES_PER_CLIENT": 64 * 1024 * 1024,
    "MAX_SESSIONS": 20000,
    "MAX_CONNECTIONS_PER_SESSION": 64,
    # Of those, how many one client (a logged-in user, else an address) may hold, so that
    # one client cannot lock the others out of a shared session (close 4008; None: no limit).
    "MAX_CONNECTIONS_PER_SESSION_PER_CLIENT": 16,
    # Per client (a logged-in user, else an address: server/clients.py) and per process:
    # the live sessions it made and the websockets it holds (close 1013; None: no limit).
    "MAX_SESSIONS_PER_CLIENT": 200,
    "MAX_CONNECTIONS_PER_CLIENT": 500,
    # How fast one client (as above) may make sessions on a process, each running the app's
    # code: this many at once, then this many per second (close 4029; 0 or None: no limit).
    # Joining or resuming a live session is not making one, nor restoring one from the store.
    "NEW_SESSIONS_PER_CLIENT_BURST": 200,
    "NEW_SESSIONS_PER_CLIENT_PER_SECOND": 2.0,
    "MAX_PATCHES_PER_SECOND": 200,
    # Those messages (PATCH-DOC and what counts with it) from all websockets of one client
    # (as above) together, per process: this many at once, then this many per second. They
    # outlive its sockets: reconnecting fills nothing (close 4029; 0 or None: no limit).
    "MAX_PATCHES_PER_CLIENT_BURST": 1000,
    "MAX_PATCHES_PER_SECOND_PER_CLIENT": 500.0,
    # And its PULL-DOC-REQs, RESUME-REQs and PUSH-DOCs (10 per second per connection, a constant).
    "MAX_DOCUMENT_REQUESTS_PER_CLIENT_BURST": 500,
    "MAX_DOCUMENT_REQUESTS_PER_SECOND_PER_CLIENT": 50.0,
    # And the JSON values its text frames carry, as MAX_FRAME_VALUES counts them: a message's
    # cost on the event loop grows with its values. The burst passes two frames at
    # MAX_FRAME_VALUES; the rate, at the costliest values measured (0.31 s of the loop per
    # million), is at most a sixth of the loop (close 4029; 0 or None: no limit).
    "MAX_VALUES_PER_CLIENT_BURST": 2_500_000,
    "MAX_VALUES_PER_SECOND_PER_CLIENT": 500_000.0,
    # And the websocket frames it sends (fragments and control frames too), as the ASGI
    # server parses them: each costs the event loop 4-10 µs in the server's own Python,
    # whatever it holds (one-byte fragments from one socket held the loop whole). The burst
    # passes ten messages of MAX_BUFFERS buffers; the rate, at daphne's cost, is about a
    # tenth of the loop (close 4029; 0 or None: no limit).
    "MAX_WEBSOCKET_FRAMES_PER_CLIENT_BURST": 20_000,
    "MAX_WEBSOCKET_FRAMES_PER_SECOND_PER_CLIENT": 10_000.0,
    "MAX_CLIENT_MODELS": 1000,
    "MAX_ARRAY_ELEMENTS": 50_000_000,
    "MAX_UPLOAD_BYTES": 32 * 1024 * 1024,  # one session's uploads in progress (FileInput), all files together
    "THEME": "auto",  # "light", "dark", or "auto" (the browser's prefers-color-scheme); per app: "theme"
    "PATCH_LOG_SIZE": 1000,  # entries kept per session for resume and conflicts
    "PATCH_LOG_BYTES": 1024 * 1024,  # and at most this many bytes of them
    "REMEMBERED_ANSWERS": 1000,  # answers to client patches kept per session (resends get them again)
    "REMEMBERED_CLIENTS": 256,  # client ids per session those answers may belong to
    "SYNC_CALLBACK_THREADS": 16,
    # The page request's headers and cookies a session sees (session_context.request),
    # as Bokeh's --include-headers/--exclude-cookies: None includes all but the excluded.
    # Credentials stay out unless included by name (see server/admission/request_info.py).
    "INCLUDE_HEADERS": None,
    "EXCLUDE_HEADERS": ["Cookie", "Authorization", "Proxy-Authorization"],
    "INCLUDE_COOKIES": None,
    "EXCLUDE_COOKIES": [],
    # After a session's application fails to make it, seconds before it is tried again;
    # once every wait is used, that session is not tried again (close 4011).
    "SESSION_RETRY_BACKOFF": [1.0, 2.0, 4.0, 8.0],
    "ACCESS": "public",  # default access rule for apps that name none
    "ADMIN_REFRESH": 2.0,  # seconds between writes of the live-session table
    "PROCESS_TIMEOUT": 15.0,  # a process silent this long is considered dead
    "CLUSTER": False,  # True: sessions are owned per process and relayed over the channel layer
    "REDIS_URL": None,  # the ownership directory; default: the channel layer's first host
    "PEER_ADDRESS": None,  # "host:port" (port 0: any) this process takes relays on directly; None: channel layer
    # Sessions that outlive their process (docs/persistence.md): None (off), "database"
    # (the Django database), "redis" (the cluster's Redis), or the dotted path of a
    # SessionStore class. Per app: "persist": False keeps that app's sessions in memory only.
    "PERSISTENCE": None,
    "SNAPSHOT_INTERVAL": 1.0,  # seconds between two snapshots of a session that changed
    "SNAPSHOT_LIFETIME": 86400.0,  # seconds a snapshot is kept once its session is no longer held
    "MAX_SNAPSHOT_BYTES": 64 * 1024 * 1024,  # a bigger snapshot is neither written nor restored
    "SNAPSHOT_TAIL": 100,  # records of changes kept before a snapshot's position (resume by replay)
    "MAX_JOURNAL_BYTES": 64 * 1024 * 1024,  # changes waiting for the store, per process: new patches wait beyond
    "DRAIN_TIMEOUT": 20.0,  # seconds a drain (SIGTERM, admin) may take before the process exits anyway
    # The database store on SQLite: the database in write-ahead logging, the journal's
    # connection at synchronous=NORMAL (no fsync per change; a process's death loses none).
    "SQLITE_WAL": True,
    # Who may read /docsync-metrics (this process's figures, Prometheus' text format): an
    # access rule as for apps; a scraper may instead send "Authorization: Bearer <METRICS_TOKEN>".
    "METRICS": "staff",
    "METRICS_TOKEN": None,
}


class Settings:
    """Attribute access to ``DOCSYNC`` merged over the defaults."""

    def __init__(self, user: dict[str, Any]) -> None:
        unknown = set(user) - set(DEFAULTS)
        self._unknown = sorted(unknown)
        self._values = {**DEFAULTS, **user}
        # Read as plain attributes (a page and a websocket read dozens): __getattr__ is
        # then called only for a name that is not a setting.
        for name, value in self._values.items():
            self.__dict__.setdefault(name, value)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"DOCSYNC has no setting {name!r}")

    @property
    def unknown_keys(self) -> list[str]:
        """Keys of ``DOCSYNC`` that docsync does not know (likely typos)."""
        return self._unknown


_cached: Settings | None = None


def docsync_settings() -> Settings:
    """Return the current settings, read from Django's settings on first use."""
    global _cached
    if _cached is None:
        _cached = Settings(dict(getattr(django_settings, "DOCSYNC", {}) or {}))
    return _cached


def reset_settings() -> None:
    """Forget the cached settings so that the next read sees Django's current ones."""
    global _cached
    _cached = None


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "DOCSYNC":
        reset_settings()
