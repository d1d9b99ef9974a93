"""A script application; ``doc`` is injected. Its dataclass needs the module registered
while the script runs, and the module must be gone afterwards."""

from dataclasses import dataclass

from docsync.document.models import Div


@dataclass
class Greeting:
    text: str


doc.add_root(Div(text=Greeting("script").text, name="root"))  # noqa: F821
doc.title = "script"  # noqa: F821
