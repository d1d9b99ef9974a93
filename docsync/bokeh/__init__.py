"""Bokeh apps, unchanged, served by docsync to BokehJS (the optional ``docsync[bokeh]`` extra).

Configure an application with ``"kind": "bokeh"`` in ``DOCSYNC["APPS"]``; see
docs/bokeh.md. Nothing outside this package imports Bokeh.
"""

from __future__ import annotations

__all__: list[str] = []
