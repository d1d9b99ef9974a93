"""Applications of the widget tests (layouts, large tables, uploads), apart from apps.py."""

from __future__ import annotations

import hashlib

import numpy as np

from docsync.document import Document
from docsync.document.models import (
    Button,
    Checkbox,
    CheckboxGroup,
    Column,
    ColumnDataSource,
    DataTable,
    Div,
    Dropdown,
    FileInput,
    RadioButtonGroup,
    RadioGroup,
    Row,
    Select,
    Slider,
    Spacer,
    Switch,
    TableColumn,
    TabPanel,
    Tabs,
    TextInput,
    Toggle,
)
from docsync.document.models.uploads import UploadedFile


def uploads(doc: Document) -> None:
    """Two FileInputs: one under the site's limit, one with its own 1 MB limit; each reports what arrived."""
    big = FileInput(title="Any file", name="big")
    small = FileInput(title="At most 1 MB", max_size=1_000_000, name="small")
    report = Div(text="nothing yet", name="report")

    def arrived(files: list[UploadedFile]) -> None:
        report.text = "; ".join(
            f"{f.filename} {f.mime_type} {f.size} {type(f.data).__name__} {hashlib.sha256(f.data).hexdigest()}"
            for f in files
        )

    big.on_upload(arrived)
    small.on_upload(arrived)
    doc.add_root(Column(big, small, report, name="layout"))


def layouts(doc: Document) -> None:
    """Boxes in each sizing mode, for the sizing tests."""
    frame = Column(
        Div(text="fixed", width=120, height=50, sizing_mode="fixed", name="fixed"),
        Div(text="fills the rest", sizing_mode="stretch_both", name="both"),
        width=500,
        height=300,
        sizing_mode="fixed",
        name="frame",
    )
    row = Row(
        Div(text="stretches", sizing_mode="stretch_width", min_width=100, name="wide"),
        Div(text="150 px", width=150, sizing_mode="fixed", name="narrow"),
        width=600,
        sizing_mode="fixed",
        name="row",
    )
    capped = Div(text="at most 200 px", sizing_mode="stretch_width", max_width=200, name="capped")
    side = Tabs(
        tabs=[TabPanel(title=title, child=Div(text=f"{title} panel")) for title in ("One", "Two", "Three")],
        tabs_location="left",
        name="side",
    )
    spaced = Row(
        Div(text="start", sizing_mode="fixed", name="start"),
        Spacer(name="gap"),
        Div(text="end", sizing_mode="fixed", name="end"),
        width=600,
        sizing_mode="fixed",
        spacing=0,
        name="spaced",
    )
    # Controls side by side, at the Row's default spacing: a slider's value, then the next title.
    form = Row(
        Slider(title="bins", start=1, end=10, step=1, value=7, name="form_bins"),
        Select(title="distribution", options=["normal", "uniform"], value="normal", name="form_kind"),
        Button(label="Apply", name="form_apply"),
        name="form",
    )
    labels = Row(
        TextInput(title="label", name="form_label"),
        Toggle(label="Live", name="form_live"),
        RadioButtonGroup(labels=["Day", "Week"], active=0, name="form_period"),
        name="labels",
    )
    # Buttons beside untitled things only: nothing to line up with, they stay at the top.
    plain = Row(Div(text="no title here", name="plain_text"), Button(label="Plain", name="plain_button"), name="plain")
    doc.add_root(Column(frame, row, capped, side, spaced, form, labels, plain, name="layout"))


def form_rows(doc: Document) -> None:
    """Checkboxes, switches and choice groups beside titled fields and buttons, in rows as in a form."""
    checks = Row(
        TextInput(title="Name", placeholder="Ada", name="checks_name"),
        Select(title="Plan", options=["free", "team"], value="free", name="checks_plan"),
        Checkbox(label="I agree", name="checks_agree"),
        Switch(label="Notify me", active=True, name="checks_notify"),
        Button(label="Save", button_type="primary", name="checks_save"),
        name="checks",
    )
    groups = Row(
        TextInput(title="Search", name="groups_search"),
        CheckboxGroup(labels=["Email", "SMS"], active=[0], inline=True, name="groups_channels"),
        RadioGroup(labels=["Asc", "Desc"], active=0, inline=True, name="groups_order"),
        Button(label="Go", name="groups_go"),
        name="groups",
    )
    # A group of choices one above the other: its first choice on the input's line.
    stacked = Row(
        TextInput(title="City", name="stacked_city"),
        RadioGroup(labels=["Metric", "Imperial"], active=0, name="stacked_units"),
        Dropdown(label="More", menu=[("Copy", "copy"), ("Share", "share")], name="stacked_more"),
        name="stacked",
    )
    # No titled field: no empty title line, the checkbox and the switch centred on the button.
    bare = Row(
        Checkbox(label="Remember me", name="bare_remember"),
        Switch(label="Dark", name="bare_dark"),
        Button(label="Log in", name="bare_login"),
        name="bare",
    )
    alone = Button(label="Save", button_type="primary", name="alone_save")
    doc.add_root(Column(checks, groups, stacked, bare, alone, name="layout"))


def big_table(doc: Document) -> None:
    """A paged table over 100,000 rows; a button streams ten more."""
    rng = np.random.default_rng(7)
    source = ColumnDataSource(data={"n": np.arange(100_000, dtype=np.int64), "y": rng.random(100_000)}, name="source")
    table = DataTable(
        source=source,
        columns=[TableColumn(field="n", title="n"), TableColumn(field="y", title="y")],
        page_size=50,
        index_position=-1,
        name="table",
    )
    more = Button(label="Append", name="more")

    def append(event: object) -> None:
        start = source.length
        source.stream({"n": np.arange(start, start + 10, dtype=np.int64), "y": np.full(10, 2.0)})

    more.on_click(append)
    doc.add_root(Column(more, table, name="layout"))
