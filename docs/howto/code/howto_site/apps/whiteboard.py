from docsync.document.models import Column, Div, TextAreaInput


def modify_doc(doc):
    """One text everyone in the room edits; the list of who is here follows connections."""
    text = TextAreaInput(title="notes", value="", name="notes")
    present = Div(text="", name="present")

    def who(attr, old, new):  # runs for whoever changed the text
        users = doc.session_context.users
        present.text = f"{len(users)} connected; last edit by {doc.session_context.user}"

    text.on_change("value", who)
    doc.add_root(Column(text, present))
