"""The main script of a directory application."""

from docsync.document.models import Div

doc.add_root(Div(text="directory", name="root"))  # noqa: F821
doc.title = "directory"  # noqa: F821
