"""What the admin needs of the server: the live-session table, session detail, commands.

- ``live_table``: writes this process's sessions to the ``LiveSession`` table, off the hot path.
- ``session_detail``: what the admin's detail page shows of a live session.
- ``commands``: describe, expire, keep alive, notice — run where the session lives.
- ``processes``: whether a process that wrote rows still runs; ``drain``: SIGTERM to one, checked first.
"""

__all__: list[str] = []  # its modules and sub-packages export; the package itself nothing
