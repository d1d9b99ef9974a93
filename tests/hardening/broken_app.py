"""An application module that cannot be imported: its page and websocket report it."""

raise RuntimeError("this application module is broken on purpose")
