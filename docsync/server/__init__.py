"""The server: sessions, their applications, the websockets that reach them, and scale-out.

Packages and modules, lowest first; each imports only those above it in this list
(README "How docsync is built" has the whole project's map)::

    compat/             workarounds for daphne, Channels and uvicorn internals, in one place
    executor            worker threads for sync user code
    outbox              a connection's bounded queue of outgoing messages, and its writer task
    serial_calls        async calls made in order by one task, bounded (broadcast's queues)
    app_loader          DOCSYNC["APPS"] entries into Applications
    cluster_link        what the core needs of the cluster (a Protocol)
    session/            ServerSession, its patch log, patch encoding, resume, dispatch
    contexts            ServerContext, SessionContext: what application code sees
    application_context ApplicationContext: one app, its sessions, its callbacks
    admin_support/      the live-session table, session detail, admin commands
    dialects            document kinds (docsync's; others live above server/)
    registry            SessionRegistry: every application of this process
    admission/          tokens, access rules, and the one admission policy
    cluster/            ownership, liveness, relays, admin RPC, broadcast (CLUSTER on)
    connection/         DocumentConsumer: the websocket
"""

__all__: list[str] = []  # its modules and sub-packages export; the package itself nothing
