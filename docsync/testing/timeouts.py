"""How long the test helpers wait: bounds against hanging, never claims about speed."""

from __future__ import annotations

__all__ = ["EVENT_WAIT", "REPLY_TIMEOUT", "START_TIMEOUT"]

#: How long a test waits for a reply before it calls the server hung: a bound against
#: hanging, not a claim about speed (a loaded CI machine may take seconds).
REPLY_TIMEOUT = 30.0

#: The least a test waits for an event (a reply, a close, a row, a log line) before it
#: fails: a test checks that the event comes, not how soon; a loaded machine shared by
#: three test workers and their servers stalls for seconds. A passing wait returns at once.
EVENT_WAIT = 60.0

#: How long a process may take to listen, by default: a bound against hanging, not a
#: claim about speed (a cold start imports Django, and maybe Bokeh, on a machine that
#: three test workers and their servers share).
START_TIMEOUT = 180.0
