import csv
import io

from docsync.document.models import Column, Div, FileInput


def rows(file):
    """Say how many rows a file has, or that it is not text: its bytes are whatever the user picked."""
    try:
        text = file.data.decode()
    except UnicodeDecodeError:
        return f"{file.filename}: not UTF-8 text"
    return f"{file.filename}: {sum(1 for _ in csv.reader(io.StringIO(text)))} rows"


def modify_doc(doc):
    """Count the rows of uploaded CSV files; the bytes never go back to the browser."""
    upload = FileInput(accept=".csv", multiple=True, max_size=1_000_000, name="upload")
    result = Div(text="Choose CSV files.", name="result")

    def received(files):  # each file: .filename, .mime_type, .data (bytes), .size
        result.text = "; ".join(rows(f) for f in files)

    upload.on_upload(received)
    doc.add_root(Column(upload, result))
