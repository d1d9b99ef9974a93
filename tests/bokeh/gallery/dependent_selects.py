"""Lists the browser refills itself: a CustomJS changes a Select's options, a SetValue a slider's end (a script app).

Picking a country, the page's own JavaScript offers that country's cities; pressing
"wider", a slider's range grows. What a widget offers is not a browser's to change,
but this app's own code changes it (docs/bokeh.md, "What a widget offers"): BokehJS
sends the new options and bounds with the values, and Python sees both.
"""

from __future__ import annotations

import json
from typing import Any

from bokeh.io import curdoc
from bokeh.layouts import column
from bokeh.models import Button, CustomJS, Div, Select, SetValue, Slider

CITIES = {"Switzerland": ["Bern", "Basel", "Geneva"], "France": ["Paris", "Lyon"]}

country = Select(title="country", options=list(CITIES), value="Switzerland", name="country")
city = Select(title="city", options=CITIES["Switzerland"], value="Bern", name="city")
country.js_on_change(
    "value",
    CustomJS(
        args={"city": city},
        code=f"const cities = {json.dumps(CITIES)}[cb_obj.value]\ncity.options = cities\ncity.value = cities[0]",
    ),
)
distance = Slider(title="distance (km)", start=0, end=10, step=1, value=5, name="distance")
wider = Button(label="wider", name="wider")
wider.js_on_click(SetValue(obj=distance, attr="end", value=20))
shown = Div(text="", name="shown")


def show(attr: str, old: Any, new: Any) -> None:
    shown.text = f"{city.value} within {distance.value} km (of {distance.end})"


city.on_change("value", show)
distance.on_change("value", show)
curdoc().add_root(column(country, city, distance, wider, shown))
curdoc().title = "Dependent selects"
