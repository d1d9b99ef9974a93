"""Serve a folder of Bokeh example apps through docsync and drive each with BokehJS in Chromium.

Bokeh's own server examples (``examples/server/app`` of a Bokeh checkout) are not part
of docsync: point ``DOCSYNC_BOKEH_EXAMPLES`` at them and
tests/e2e/test_bokeh_upstream_examples.py serves every script and directory there
unchanged, as ``"kind": "bokeh"`` apps, and drives each; tests/e2e/test_bokeh_examples_harness.py
runs the same harness over docsync's own gallery (tests/bokeh/gallery/), so it is tested
whether or not a checkout is at hand.

The apps are not known in advance, so the harness finds what to do in each session:
the probe view (tests/bokeh/urls.py) lists the models that have Python callbacks, and
the harness acts on the first it knows how to drive as a user would — a select, a
slider's handle by keyboard, a range slider, a checkbox, a text input, a button, a box
selection dragged across a plot — or, with none, pans a plot. Then it checks, each
recorded in an ``ExampleResult``:

- ``loaded``: the page came (HTTP 200), BokehJS drew every root, and no script error;
- ``saw``: the Python document has the browser's new value (or counted the event);
- ``reacted``: the app's Python code changed something else in its document;
- ``answered``: a PATCH-DOC came back to the browser after the action;
- ``redrew``: the page's pixels changed;
- ``server_errors``: tracebacks the server logged meanwhile.

A screenshot of each goes to build/screenshots/bokeh-example-<name>.png.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The environment variable naming a folder of Bokeh example apps (``examples/server/app``).
EXAMPLES_ENV = "DOCSYNC_BOKEH_EXAMPLES"
#: How the test server learns which apps to serve: JSON ``{app_path: {"app": ..., "argv": [...]}}``.
APPS_ENV = "DOCSYNC_EXAMPLE_APPS"
PREFIX = "ex_"

_READY = """() => window.Bokeh != null && Bokeh.documents.length >= 1
  && Bokeh.documents.every((d) => d.is_idle)
  && Bokeh.index.roots.length > 0 && Bokeh.index.roots.every((v) => v.has_finished() && v.is_idle)"""

# The order widgets are tried in: the first with Python callbacks, else the first at all.
DRIVABLE = ("Select", "Slider", "RangeSlider", "CheckboxGroup", "RadioGroup", "RadioButtonGroup",
            "CheckboxButtonGroup", "Button", "Toggle", "TextInput", "Selection")  # fmt: skip


def example_apps(folder: Path) -> dict[str, dict[str, Any]]:
    """Every app in ``folder``, as ``bokeh serve folder/*`` would take them: scripts and directories with main.py."""
    apps: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if (path.is_file() and path.suffix == ".py") or (path.is_dir() and (path / "main.py").is_file()):
            name = re.sub(r"[^a-z0-9_]", "_", path.stem.lower())
            apps[f"{PREFIX}{name}"] = {"app": str(path)}
    return apps


def settings_apps() -> dict[str, dict[str, Any]]:
    """The apps the example server serves (its settings read them from ``APPS_ENV``)."""
    apps = json.loads(os.environ.get(APPS_ENV, "{}"))
    return {path: {"kind": "bokeh", **spec} for path, spec in apps.items()}


@dataclass
class ExampleResult:
    """What the harness saw of one example."""

    app: str
    loaded: bool = False
    action: str = ""
    saw: bool = False
    reacted: bool = False
    answered: bool = False
    redrew: bool = False
    periodic_updates: bool | None = None
    page_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    validation: list[str] = field(default_factory=list)  # Bokeh's own E-/W- checks of the document, logged
    problem: str = ""

    @property
    def works(self) -> bool:
        """Loaded without errors, and the Python side saw what the user did."""
        return self.loaded and self.saw and not self.page_errors and not self.server_errors

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data (for the report)."""
        return {**asdict(self), "works": self.works}


class _Probe:
    """The Python side of one session, read through the test server's probe view."""

    def __init__(self, base_url: str, app: str, session: str) -> None:
        self.base = f"{base_url}_test/bokeh/{app}"
        self.session = session

    def _get(self, view: str, **query: Any) -> Any:
        params = urllib.parse.urlencode({"session": self.session, **query}, doseq=True)
        with urllib.request.urlopen(f"{self.base}/{view}?{params}", timeout=30) as response:
            return json.loads(response.read())

    def read(self, *, attrs: tuple[str, ...] = (), excluded: str = "") -> Any:
        return self._get("probe", attr=list(attrs), **{"except": excluded})

    def watch(self, model_id: str) -> list[str]:
        return list(self._get("watch", id=model_id)["watching"])


def _session_of(html: str) -> str:
    import base64

    token = re.search(r'"token":\s*"([^"]+)"', html)
    if token is None:
        raise AssertionError("no Bokeh token in the page")
    payload = token.group(1).split(".")[0]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["session_id"])


def _server_errors(log: Path | None, start: int) -> list[str]:
    if log is None or not log.exists():
        return []
    text = log.read_bytes()[start:].decode("utf-8", "replace")
    return [block.strip()[-600:] for block in re.split(r"\n(?=\S)", text) if "Traceback" in block or " ERROR " in block]


def _log_size(log: Path | None) -> int:
    return log.stat().st_size if log is not None and log.exists() else 0


def _pick(models: list[dict[str, Any]]) -> dict[str, Any] | None:
    def rank(model: dict[str, Any]) -> tuple[int, int, int, str]:
        with_callbacks = 0 if (model["watched"] or model["events"]) else 1
        number = re.sub(r"\D", "", model["id"])  # Bokeh numbers ids in creation order: the app's first widget
        return with_callbacks, DRIVABLE.index(model["type"]), int(number or 0), model["id"]

    candidates = [m for m in models if m["type"] in DRIVABLE]
    if any(m["type"] == "Selection" for m in candidates):  # only a watched selection is worth a drag
        candidates = [m for m in candidates if m["type"] != "Selection" or "indices" in m["watched"]]
    return min(candidates, key=rank) if candidates else None


def _view_handle(page: Any, model_id: str) -> Any:
    return page.evaluate_handle(
        """(id) => { const m = Bokeh.documents.map((d) => d.get_model_by_id(id)).find((x) => x != null);
        const view = m == null ? null : Bokeh.index.find_one(m);
        return view == null ? null : (view.shadow_el ?? view.el); }""",
        model_id,
    )


def _browser_value(page: Any, model_id: str, attr: str) -> Any:
    return page.evaluate(
        """([id, attr]) => { const m = Bokeh.documents.map((d) => d.get_model_by_id(id)).find((x) => x != null);
        const v = m[attr]; return ArrayBuffer.isView(v) ? [...v] : v; }""",
        [model_id, attr],
    )


def _drive(page: Any, probe: _Probe, model: dict[str, Any]) -> tuple[str, str | None]:
    """Act on ``model`` as a user; return what was done and the property to compare (None: an event)."""
    kind, model_id = model["type"], model["id"]
    element = _view_handle(page, model_id)
    if kind == "Select":
        options = page.evaluate(
            """(id) => { const m = Bokeh.documents.map((d) => d.get_model_by_id(id)).find((x) => x != null);
            const flat = Array.isArray(m.options) ? m.options : [...Object.values(m.options)].flat();
            return flat.map((o) => Array.isArray(o) ? o[0] : o).filter((o) => o !== m.value); }""",
            model_id,
        )
        choice = options[-1]
        element.query_selector("select").select_option(str(choice))
        return f"chose {choice!r} in a Select", "value"
    if kind in ("Slider", "RangeSlider"):
        handle = element.query_selector_all(".noUi-handle")[-1]  # a range slider's upper handle
        handle.focus()
        for _ in range(5):
            handle.press("ArrowLeft" if kind == "RangeSlider" else "ArrowRight")
        return f"moved a {kind}'s handle with the keyboard", "value"
    if kind in ("CheckboxGroup", "RadioGroup"):
        element.query_selector_all("input")[-1].click()
        return f"clicked the last choice of a {kind}", "active"
    if kind in ("RadioButtonGroup", "CheckboxButtonGroup"):
        element.query_selector_all(".bk-btn")[-1].click()
        return f"clicked the last button of a {kind}", "active"
    if kind in ("Button", "Toggle"):
        probe.watch(model_id)
        element.query_selector("button").click()
        return f"clicked a {kind}", "active" if kind == "Toggle" else None
    if kind == "TextInput":
        box = element.query_selector("input")
        box.fill("docsync")
        box.press("Enter")
        return "typed into a TextInput", "value"
    raise AssertionError(f"no driver for {kind}")


def _select_box(page: Any, selection_id: str) -> str:
    """Drag a box selection across the plot whose renderer owns Selection ``selection_id``."""
    box = page.evaluate(
        """(id) => {
          const doc = Bokeh.documents.find((d) => d.get_model_by_id(id) != null);
          const renderer = [...doc.all_models].find((m) => m.data_source?.selected?.id === id);
          const plot = [...doc.all_models].find((m) => m.renderers?.includes?.(renderer));
          const tool = plot.toolbar.tools.find((t) => t.type === "BoxSelectTool");
          if (tool == null) return null;
          tool.active = true;
          const view = Bokeh.index.find_one(plot);
          const rect = view.canvas_view.el.getBoundingClientRect();
          const f = view.frame.bbox;
          return [rect.left + f.left + f.width * 0.2, rect.top + f.top + f.height * 0.2,
                  rect.left + f.left + f.width * 0.8, rect.top + f.top + f.height * 0.8];
        }""",
        selection_id,
    )
    if box is None:
        raise AssertionError("the selection's plot has no box select tool")
    x0, y0, x1, y1 = box
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, steps=5)
    page.mouse.move(x1, y1, steps=5)
    page.mouse.up()
    return "dragged a box selection across a plot"


def _pannable(page: Any) -> tuple[str, float, float] | None:
    """The x range of the first plot with a pan tool (made active), and the middle of its frame."""
    found = page.evaluate(
        """() => {
          for (const doc of Bokeh.documents) for (const m of doc.all_models) {
            if (m.toolbar == null || m.x_range == null) continue;
            const tool = m.toolbar.tools.find((t) => t.type === "PanTool");
            const view = Bokeh.index.find_one(m);
            if (tool == null || view == null) continue;
            tool.active = true;
            const rect = view.canvas_view.el.getBoundingClientRect(); const f = view.frame.bbox;
            return [m.x_range.id, rect.left + f.left + f.width / 2, rect.top + f.top + f.height / 2];
          }
          return null; }"""
    )
    return None if found is None else (str(found[0]), float(found[1]), float(found[2]))


def _pan(page: Any, x: float, y: float) -> str:
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 60, y, steps=8)
    page.mouse.up()
    return "panned a plot"


#: The property a widget's user changes (``value`` unless named here).
_ATTRS = {"CheckboxGroup": "active", "RadioGroup": "active", "RadioButtonGroup": "active",
          "CheckboxButtonGroup": "active", "Button": None, "Toggle": "active"}  # fmt: skip


def _changed(before: bytes, after: bytes) -> bool:
    from tests.e2e.pixels import changed_fraction

    return changed_fraction(before, after) > 0.0005


def drive_example(context: Any, server: Any, app: str, screenshots: Path) -> ExampleResult:
    """Open ``app``'s page, act on it, and record what happened (never raises for the app's faults)."""
    result = ExampleResult(app)
    page = context.new_page()
    received: list[str] = []
    page.on("pageerror", lambda exc: result.page_errors.append(str(exc)[:300]))
    page.on("console", lambda msg: result.page_errors.append(msg.text[:300]) if msg.type == "error" else None)
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(str(frame)[:200])))
    log_start = _log_size(server.log_path)
    try:
        _run(page, server, app, result, received)
    except Exception as exc:  # the app's fault or ours: recorded, the next example still runs
        result.problem = f"{type(exc).__name__}: {str(exc)[:400]}"
    finally:
        try:
            page.screenshot(path=str(screenshots / f"bokeh-example-{app.removeprefix(PREFIX)}.png"), full_page=True)
        finally:
            page.close()
    # Resources a page asks of other hosts (a YouTube frame, web fonts) cannot load here: not the app's fault.
    result.page_errors = [e for e in result.page_errors if not e.startswith("Failed to load resource")]
    logged = _server_errors(server.log_path, log_start)
    # Bokeh validates every document it builds (Application.initialize_document) and logs
    # what its checks find (E-1001 BAD_COLUMN_NAME...) as ERROR, under bokeh serve too.
    result.validation = [e for e in logged if _VALIDATION.search(e) and "Traceback" not in e]
    result.server_errors = [e for e in logged if e not in result.validation]
    return result


_VALIDATION = re.compile(r"\b[EW]-\d{4} \([A-Z_]+\)")


def unavailable(result: ExampleResult) -> str | None:
    """Why an example cannot run on this machine at all (a module it imports is missing), if that is why it failed.

    ``bokeh serve`` could not run such an example either: it is the machine's, not docsync's.
    """
    if result.works:
        return None
    text = html.unescape(" ".join(result.server_errors) + " " + result.problem)
    missing = re.search(r"No module named '([^']+)'|Missing optional dependency '([^']+)'", text)
    if missing:
        return f"needs the module {missing.group(1) or missing.group(2)!r}, not installed here"
    newer = re.search(r"cannot import name '([^']+)' from '(bokeh[.\w]*)'", text)
    if newer:
        return f"needs {newer.group(2)}.{newer.group(1)}, which the installed Bokeh does not have"
    return None


# Build an app's document with Bokeh's own Application, in a fresh interpreter: what
# ``bokeh serve`` would do on this machine, before any session's callbacks run. The
# next-tick callbacks run once too, as Bokeh's server runs them right after.
_BOKEH_ALONE = """
import os, sys
from bokeh.application import Application
from bokeh.application.handlers import DirectoryHandler, ScriptHandler
from bokeh.document import Document
from bokeh.server.callbacks import NextTickCallback
path = sys.argv[1]
handler = (DirectoryHandler if os.path.isdir(path) else ScriptHandler)(filename=path)
document = Document()
if not handler.failed:
    Application(handler).initialize_document(document)
if handler.failed:
    sys.exit(handler.error_detail or handler.error)
for callback in list(document.session_callbacks):
    if isinstance(callback, NextTickCallback):
        callback.callback()
"""


def bokeh_alone(app: str) -> str | None:
    """The error Bokeh's own Application meets building ``app``'s document here, without docsync (None: none)."""
    done = subprocess.run(
        [sys.executable, "-c", _BOKEH_ALONE, app], capture_output=True, text=True, cwd=os.path.dirname(app)
    )
    if done.returncode == 0:
        return None
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit status {done.returncode}"


def not_docsyncs(result: ExampleResult, app: str | None = None) -> str | None:
    """Why an example failed for a reason that is not docsync's, if so (``app``: its path, to try Bokeh alone).

    A module missing here (``unavailable``); nothing for a user to act on, while the
    periodic updates it makes reach the browser; or an app that Bokeh's own
    Application cannot build here either (a pandas it predates, an API of a newer
    Bokeh): ``bokeh serve`` would fail the same way.
    """
    if result.works:
        return None
    reason = unavailable(result)
    if reason is not None:
        return reason
    quiet = result.loaded and not result.page_errors and not result.server_errors
    if quiet and result.problem.startswith("nothing to act on") and result.periodic_updates is not False:
        shown = "" if result.periodic_updates is None else "; its periodic updates reached the browser"
        return "offers nothing to act on (no widget, no plot with a pan tool)" + shown
    error = bokeh_alone(app) if app is not None else None
    return None if error is None else f"fails under Bokeh alone too (no docsync): {error}"


def _patches(received: list[str]) -> int:
    return sum(1 for frame in received if '"msgtype":"PATCH-DOC"' in frame.replace(" ", ""))


def _run(page: Any, server: Any, app: str, result: ExampleResult, received: list[str]) -> None:
    response = page.goto(f"{server.url}{app}/")
    if response is None or not response.ok:
        status = response.status if response is not None else "no response"
        text = re.sub(r"<[^>]+>", " ", response.text())[:300] if response is not None else ""
        raise AssertionError(f"HTTP {status}: {' '.join(text.split())}")
    probe = _Probe(server.url, app, _session_of(response.text()))
    page.wait_for_function(_READY, timeout=60_000)
    result.loaded = True
    first = probe.read()
    if first["periodic"]:  # the app changes its document by itself: does the browser get it?
        seen = _patches(received)

        def updated() -> bool:
            return probe.read()["digest"] != first["digest"] and _patches(received) > seen

        # 1.5 s, then until an update has reached the browser or 15 s have passed: on a loaded
        # machine the next period can come after 1.5 s, and none seen is taken for a stuck app.
        page.wait_for_timeout(1500)
        result.periodic_updates = updated()
        for _ in range(135):
            if result.periodic_updates:
                break
            page.wait_for_timeout(100)
            result.periodic_updates = updated()
    before = page.screenshot()
    model = _pick(first["models"])
    attr: str | None
    pannable: tuple[str, float, float] | None = None
    if model is not None:
        target = model["id"]
        attr = "indices" if model["type"] == "Selection" else _ATTRS.get(model["type"], "value")
    else:
        pannable = _pannable(page)
        if pannable is None:
            result.problem = "nothing to act on: no widget and no plot with a pan tool"
            return
        target, attr = pannable[0], "start"
    initial = _browser_value(page, target, attr) if attr else None
    excluded = target  # the acted-on model's own change is not the app's answer
    digest = probe.read(excluded=excluded)["digest"]
    patches = _patches(received)

    def act() -> str | None:
        if model is None:
            assert pannable is not None
            result.action = _pan(page, pannable[1], pannable[2])
        elif model["type"] == "Selection":
            result.action = _select_box(page, target)
        else:
            result.action, changed = _drive(page, probe, model)
            return changed
        return attr

    attr = act()
    for tick in range(150):  # up to about 15 s on a loaded machine
        page.wait_for_timeout(100)
        if tick == 40 and attr is not None and _same(_browser_value(page, target, attr), initial):
            attr = act()  # the page took no notice (busy redrawing): as a user would, do it again
        now = probe.read(attrs=(f"{target}.{attr}",) if attr else (), excluded=excluded)
        if attr is None:
            result.saw = any(count > 0 for count in now["events"].values())
        else:
            browser = _browser_value(page, target, attr)
            result.saw = not _same(browser, initial) and _same(now["values"][f"{target}.{attr}"], browser)
        result.reacted = now["digest"] != digest
        result.answered = _patches(received) > patches
        if result.saw and result.reacted and result.answered:
            break
    page.wait_for_function(_READY, timeout=30_000)
    result.redrew = _changed(before, page.screenshot())


def _same(python: Any, browser: Any) -> bool:
    if isinstance(python, list) and isinstance(browser, list):
        return len(python) == len(browser) and all(_same(a, b) for a, b in zip(python, browser, strict=True))
    if isinstance(python, float | int) and isinstance(browser, float | int):
        return abs(python - browser) <= 1e-9 * max(1.0, abs(python))
    return bool(python == browser)


def report(results: list[ExampleResult]) -> str:
    """A Markdown table of the results."""
    lines = ["| example | works | action | saw | reacted | answered | redrew | periodic | problem |", "|" + "---|" * 9]
    for r in results:
        # A traceback's last line names the exception; it says more than "nothing to act on".
        errors = [e.strip().splitlines()[-1] for e in r.server_errors if e.strip()] + r.page_errors
        problem = html.unescape("; ".join(errors[:2]) if errors else r.problem).replace("\n", " ")[:160]
        periodic = "—" if r.periodic_updates is None else ("yes" if r.periodic_updates else "no")
        flags = ["yes" if flag else "no" for flag in (r.saw, r.reacted, r.answered, r.redrew)]
        cells = [r.app.removeprefix(PREFIX), "yes" if r.works else "**no**", r.action, *flags, periodic, problem]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


__all__ = [
    "APPS_ENV",
    "EXAMPLES_ENV",
    "ExampleResult",
    "bokeh_alone",
    "drive_example",
    "example_apps",
    "not_docsyncs",
    "report",
    "settings_apps",
    "unavailable",
]
