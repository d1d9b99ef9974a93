"""An application script with a syntax error: it must fail alone, with a clear message."""

from docsync.document.models import Div

doc.add_root(Div(text="never built", name="root")  # the closing parenthesis is missing
doc.title = "broken"
