from docsync.document.models import Div


def modify_doc(doc):
    """Greet the region named in the page's arguments (?region=..., or a template's arguments)."""
    arguments = doc.session_context.arguments  # {name: [values]}, as Bokeh's request arguments
    region = arguments.get("region", ["everywhere"])[0]
    doc.add_root(Div(text=f"Figures for {region}", name="greeting"))
