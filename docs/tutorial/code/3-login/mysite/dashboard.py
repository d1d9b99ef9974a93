# mysite/dashboard.py: the whole file
import numpy as np
from django.utils.html import format_html

from docsync.document.models import HTML, Column, ColumnDataSource, DataTable, Select, TableColumn
from docsync.plotting import figure

from weather.models import Reading


def columns(readings):
    """The columns of some readings: times in milliseconds since the epoch, as a datetime axis wants."""
    return {
        "time": np.array([r.taken_at.timestamp() * 1000 for r in readings], dtype=float),
        "temperature": np.array([r.temperature for r in readings], dtype=float),
        "when": [r.taken_at.strftime("%H:%M:%S") for r in readings],
    }


def modify_doc(doc):  # docsync runs sync code in a worker thread: the ORM may be used here
    stations = sorted(set(Reading.objects.values_list("station", flat=True))) or ["Oslo"]
    station = Select(title="station", options=stations, value=stations[0])
    source = ColumnDataSource(data=columns(Reading.objects.filter(station=station.value).order_by("pk")))
    latest = {"pk": Reading.objects.order_by("pk").values_list("pk", flat=True).last() or 0}

    def show(attr, old, new):  # the user picked another station
        source.data = columns(Reading.objects.filter(station=new).order_by("pk"))

    def poll():  # every second: what was recorded since, streamed to the plot and the table
        new = list(Reading.objects.filter(pk__gt=latest["pk"]).order_by("pk"))
        if not new:
            return
        latest["pk"] = new[-1].pk
        station.options = sorted(set(station.options) | {r.station for r in new})
        here = [r for r in new if r.station == station.value]
        if here:
            source.stream(columns(here))  # only the new rows travel

    station.on_change("value", show)
    doc.add_periodic_callback(poll, 1000)

    plot = figure(title="Temperature", x_axis_type="datetime", y_axis_label="°C", width=None, height=300)
    plot.line("time", "temperature", source=source, line_width=2)
    plot.scatter("time", "temperature", source=source, size=6)
    table = DataTable(
        source=source,
        columns=[TableColumn(field="when", title="time"), TableColumn(field="temperature", title="°C")],
        height=200,
    )
    user = doc.session_context.user  # the Django user the session was made for
    greeting = HTML(text=format_html("Signed in as <b>{}</b>", user.get_username()))  # the name escaped
    doc.add_root(Column(greeting, station, plot, table, sizing_mode="stretch_width"))
    doc.title = "Weather dashboard"
