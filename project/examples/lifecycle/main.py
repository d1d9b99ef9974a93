"""lifecycle: a directory app; its hooks in app_hooks.py count sessions."""

from docsync.document.models import Column, Div, Paragraph

# ``doc`` is provided by the ScriptHandler that runs this file for every session.
# (no import needed; it is injected into the module namespace)
doc.add_root(  # noqa: F821
    Column(
        Div(text="This app lives in a directory with main.py, app_hooks.py and static/.", name="intro"),
        Paragraph(text="Its hooks write each lifecycle step to the server log.", name="note"),
        name="layout",
    )
)
doc.title = "lifecycle"  # noqa: F821
