import numpy as np

from docsync.document.models import ColumnDataSource
from docsync.plotting import figure

KEEP = 200  # the plot keeps the last 200 points: older ones roll over


def modify_doc(doc):
    source = ColumnDataSource(data={"t": np.zeros(0), "price": np.zeros(0)}, name="prices")
    state = {"t": 0, "price": 100.0}
    rng = np.random.default_rng()

    def tick():
        steps = rng.normal(0, 0.5, 10)  # ten new points per tick, sent as one stream event
        prices = state["price"] + np.cumsum(steps)
        times = state["t"] + np.arange(1, 11)
        state["t"], state["price"] = int(times[-1]), float(prices[-1])
        source.stream({"t": times, "price": prices}, rollover=KEEP)

    doc.add_periodic_callback(tick, 100)  # ms; docsync removes it when the session ends
    plot = figure(title="price", width=None, height=250)
    plot.line("t", "price", source=source)
    doc.add_root(plot)
