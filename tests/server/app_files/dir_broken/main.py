"""The main script of a directory application whose hooks file cannot load."""

from docsync.document.models import Div

doc.add_root(Div(text="directory", name="root"))  # noqa: F821
