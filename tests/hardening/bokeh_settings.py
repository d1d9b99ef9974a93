"""Settings of the hostile Bokeh-dialect tests: the Bokeh test gallery, an app that grows, low document bounds."""

from __future__ import annotations

from tests.bokeh.settings import *  # noqa: F403
from tests.bokeh.settings import DOCSYNC as _BOKEH_DOCSYNC

#: Small enough that a client reaches it in a few messages (the wire limits stay the defaults).
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Models clients may create in one session.
MAX_CLIENT_MODELS = 30

DOCSYNC = {
    **_BOKEH_DOCSYNC,
    "APPS": {**_BOKEH_DOCSYNC["APPS"], "bk_grow": {"app": "tests.bokeh.gallery.functions:grows", "kind": "bokeh"}},
    "MAX_DOCUMENT_BYTES": MAX_DOCUMENT_BYTES,
    "MAX_CLIENT_MODELS": MAX_CLIENT_MODELS,
}
