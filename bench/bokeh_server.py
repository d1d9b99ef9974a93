"""Run ``bokeh serve`` exactly as its command line does, with TCP_NODELAY on every websocket.

Run with the Bokeh venv's python: ``bokeh_server.py serve app.py --port ...``. Tornado
writes each websocket frame with its own ``send``; without TCP_NODELAY, Nagle's algorithm
holds the second small frame of a message until the peer's delayed ACK (~40 ms on
loopback). Tornado's ``WebSocketHandler.set_nodelay`` turns that off per connection.
"""

import sys

from bokeh.command.bootstrap import main as bokeh_main
from bokeh.server.views.ws import WSHandler

_open = WSHandler.open


def _open_with_nodelay(self, *args, **kwargs):
    self.set_nodelay(True)
    return _open(self, *args, **kwargs)


if __name__ == "__main__":
    WSHandler.open = _open_with_nodelay
    bokeh_main(["bokeh", *sys.argv[1:]])
