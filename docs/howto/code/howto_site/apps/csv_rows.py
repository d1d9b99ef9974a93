import csv
import io

from docsync.document.models import Column, Div, FileInput


def modify_doc(doc):
    """Count the rows of uploaded CSV files; the bytes never go back to the browser."""
    upload = FileInput(accept=".csv", multiple=True, max_size=1_000_000, name="upload")
    result = Div(text="Choose CSV files.", name="result")

    def received(files):  # each file: .filename, .mime_type, .data (bytes), .size
        counts = [f"{f.filename}: {sum(1 for _ in csv.reader(io.StringIO(f.data.decode())))} rows" for f in files]
        result.text = "; ".join(counts)

    upload.on_upload(received)
    doc.add_root(Column(upload, result))
