"""Rendering speed in Chromium: docsync's canvas client against BokehJS (canvas and WebGL), same data, same page size.

    python bench/render.py [--reps 3] [--seconds 5] [--cases stream100k] [--targets docsync-canvas]

Cases: a 1,000,000-point line; a 100,000-point scatter coloured per point by a linear
colour mapper; a 100,000-point line receiving 10 points every 50 ms (rollover
100,000). Measured: first paint (document JSON in memory -> plot painted: decode,
views, first draw), the frame time of 20 programmatic pans and 20 zooms (the range changes at
each frame's start; the time from one such frame to the next, so rasterisation and
WebGL work count, with 16.7 ms as the floor; the JSON also keeps the script work in
the frame alone), and frames dropped while streaming (a vsync without a frame: an
animation frame's timestamp over 1.5 frame periods after the previous one's), beside the
frames the same page drops over as long with nothing streamed (what
a loaded machine drops anyway) and those of them in which the page's scripts ran over
half a frame of CPU time (from a Chromium trace: thread time, which other processes
taking the CPU do not inflate), with the script CPU per frame (median, p99, longest).
Both libraries get base64 JSON (what Bokeh's json_item makes; docsync's wire carries
binary buffers instead). Bokeh comes from bench/.venv-bokeh (bench/setup_bokeh.sh), never from docsync's environment.
Chromium runs headless: canvas targets with software rasterisation (--disable-gpu, as
the browser tests), the WebGL target on SwiftShader (no GPU on this machine): GPU
numbers would differ, for both. Prints a table and writes bench/results/render.{md,json}.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import functools
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from render_pages import BOKEH_PAGE, DOCSYNC_PAGE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BOKEH_PYTHON = HERE / ".venv-bokeh" / "bin" / "python"
CHROMIUM = os.environ.get("DOCSYNC_CHROMIUM", "/usr/bin/chromium")
BASE_ARGS = [
    "--headless", "--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
]  # fmt: skip
# Canvas: software rasterisation, as the browser tests run it (no GPU here). WebGL: SwiftShader,
# the only WebGL this machine has; canvas through SwiftShader is slower than without it.
BROWSER_ARGS = {
    "canvas": [*BASE_ARGS, "--disable-gpu"],
    "webgl": [*BASE_ARGS, "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
}
TARGETS = [("docsync", "canvas"), ("bokeh", "canvas"), ("bokeh", "webgl")]
CASES = ("line1m", "scatter100k", "stream100k")


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves docsync's client, BokehJS, the documents and the two pages; nothing else."""

    roots: dict[str, Path] = {}
    pages: dict[str, str] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def translate_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        for prefix, root in self.roots.items():
            if path.startswith(f"/{prefix}/"):
                target = (root / path[len(prefix) + 2 :]).resolve()
                if root.resolve() in target.parents:
                    return str(target)
        return "/nonexistent"

    def do_GET(self) -> None:
        page = self.pages.get(self.path.split("?", 1)[0])
        if page is None:
            super().do_GET()
            return
        body = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(items: Path) -> http.server.ThreadingHTTPServer:
    bokeh_js = next((BOKEH_PYTHON.parent.parent / "lib").glob("python3*/site-packages/bokeh/server/static/js"))
    Handler.roots = {"docsync": ROOT / "docsync" / "static" / "docsync", "bokeh": bokeh_js, "items": items}
    Handler.pages = {"/docsync.html": DOCSYNC_PAGE, "/bokeh.html": BOKEH_PAGE}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def make_items(items: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(HERE / "render_items.py"), "docsync", str(items)], check=True, env=env)
    if not BOKEH_PYTHON.exists():
        subprocess.run(["bash", str(HERE / "setup_bokeh.sh")], check=True)
    subprocess.run([str(BOKEH_PYTHON), str(HERE / "render_items.py"), "bokeh", str(items)], check=True)


TRACE_CATEGORIES = ["devtools.timeline", "blink.user_timing"]
# The main thread's script tasks: animation-frame callbacks (the library's redraw) and
# timers (the bench's stream calls, a library's own timers).
SCRIPT_EVENTS = ("FireAnimationFrame", "TimerFire")


def script_cpu(trace: Any, stream: dict[str, Any]) -> dict[str, Any]:
    """Return the page's script CPU time per frame while streaming, from a Chromium trace.

    A dropped frame is the library's when the main thread ran over half a frame of script
    CPU time (thread time, "tdur": time another process took from it does not count) in
    it; the others were dropped by the machine, as the idle run shows. Frames come from
    the page (their ends after the "bench-frames" mark), script from the trace.
    """
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mark = next((e["ts"] for e in events if e.get("name") == "bench-frames"), None)
    script = [e for e in events if e.get("name") in SCRIPT_EVENTS and e.get("ph") == "X" and "tdur" in e]
    if mark is None or not script:
        return {}
    threads = {e["tid"] for e in script if e["name"] == "FireAnimationFrame"}
    ends = [mark + 1000 * t for t in stream["frame_ends"]]
    starts = [end - 1000 * t for end, t in zip(ends, stream["frame_intervals"], strict=True)]
    cpu = [0.0] * len(ends)
    for event in script:
        if event["tid"] not in threads:
            continue
        # Each task counts in the frame it started in (tasks are far shorter than a frame).
        k = bisect.bisect_left(ends, event["ts"])
        if k < len(ends) and event["ts"] >= starts[k]:
            cpu[k] += event["tdur"] / 1000
    frame = stream["vsync_median"]
    long = [k for k, t in enumerate(stream["frame_vsyncs"]) if t > 1.5 * frame]
    # A frame that redrew runs over 0.5 ms of script (the bench's own callback: ~0.05 ms).
    redrew = [c > 0.5 for c in cpu]
    ordered = sorted(cpu)
    return {
        "script_cpu_median": ordered[len(ordered) // 2] if ordered else float("nan"),
        "script_cpu_p99": ordered[int(len(ordered) * 0.99)] if ordered else float("nan"),
        "script_cpu_max": ordered[-1] if ordered else float("nan"),
        "dropped_ours": sum(1 for k in long if cpu[k] > frame / 2),
        # Dropped frames that redrew or follow one that did: the redraw's rasterisation and
        # compositing (outside the script) are the suspects there, the machine elsewhere.
        "dropped_at_redraw": sum(1 for k in long if redrew[k] or (k > 0 and redrew[k - 1])),
        "redraws": sum(redrew),
    }


def _rep_line(run: dict[str, Any]) -> str:
    """One repetition's figures as printed while the benchmark runs (medians alone hide a bad run)."""
    line = f"first paint {run['first_paint']:.1f} ms"
    stream, idle = run.get("stream"), run.get("idle")
    if stream:
        line += f", streaming: {stream['dropped']} dropped of {stream['frames']} frames"
        if idle:
            line += f" (idle page: {idle['dropped']} of {idle['frames']})"
    return line


def run_one(
    browser: Any, url: str, side: str, case: str, backend: str, seconds: float, frames: int = 20
) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": 1000, "height": 700}, device_scale_factor=1)
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: messages.append(str(e)))
    try:
        page.goto(f"{url}/{side}.html")
        page.wait_for_function("window.benchReady === true", timeout=30_000)
        result: dict[str, Any] = page.evaluate(f"bench.firstPaint('{case}.{side}-{backend}')")
        if case == "stream100k":
            # The same page with nothing streamed first: the frames a loaded machine drops anyway.
            result["idle"] = page.evaluate(f"bench.idle({seconds})")
            browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
            result["stream"] = page.evaluate(f"bench.stream({seconds})")
            result["stream"].update(script_cpu(json.loads(browser.stop_tracing()), result["stream"]))
            del result["stream"]["frame_ends"], result["stream"]["frame_intervals"], result["stream"]["frame_vsyncs"]
        else:
            result["pan"] = page.evaluate(f"bench.frames('pan', {frames})")
            result["zoom"] = page.evaluate(f"bench.frames('zoom', {frames})")
        result["messages"] = messages[:5]
        return result
    finally:
        page.close()


def summarize(runs: list[dict[str, Any]]) -> dict[str, float]:
    def med(path: tuple[str, ...]) -> float:
        values = []
        for run in runs:
            value: Any = run
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, int | float):
                values.append(float(value))
        return statistics.median(values) if values else float("nan")

    return {
        "first_paint": med(("first_paint",)),
        "pan": med(("pan", "interval_median")),
        "zoom": med(("zoom", "interval_median")),
        "pan_work": med(("pan", "cost_median")),
        "zoom_work": med(("zoom", "cost_median")),
        "stream_frame": med(("stream", "interval_median")),
        "stream_cost": med(("stream", "cost_median")),
        "stream_dropped": med(("stream", "dropped")),
        "stream_late": med(("stream", "late")),
        "stream_frames": med(("stream", "frames")),
        "idle_dropped": med(("idle", "dropped")),
        "idle_frames": med(("idle", "frames")),
        "stream_dropped_ours": med(("stream", "dropped_ours")),
        "stream_script_cpu_median": med(("stream", "script_cpu_median")),
        "stream_script_cpu_p99": med(("stream", "script_cpu_p99")),
        "stream_script_cpu_max": med(("stream", "script_cpu_max")),
        "stream_dropped_at_redraw": med(("stream", "dropped_at_redraw")),
        "stream_redraws": med(("stream", "redraws")),
    }


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| case | metric | docsync canvas | Bokeh canvas | Bokeh WebGL | docsync / Bokeh-best | goal ≤ 0.5x |",
        "|---|---|---|---|---|---|---|",
    ]
    metrics = {
        "line1m": [("first paint (ms)", "first_paint"), ("pan frame (ms)", "pan"), ("zoom frame (ms)", "zoom")],
        "scatter100k": [("first paint (ms)", "first_paint"), ("pan frame (ms)", "pan"), ("zoom frame (ms)", "zoom")],
        "stream100k": [("first paint (ms)", "first_paint"), ("frame while streaming (ms)", "stream_frame"),
                       ("dropped frames / frames", "stream_dropped")],
    }  # fmt: skip
    names = {"line1m": "1,000,000-point line", "scatter100k": "100,000-point scatter, colour per point",
             "stream100k": "100k line + 10 points / 50 ms"}  # fmt: skip
    for case, rows in metrics.items():
        for label, key in rows:
            values = [results[f"{side}-{backend}"][case][key] for side, backend in TARGETS]
            frames = [results[f"{side}-{backend}"][case]["stream_frames"] for side, backend in TARGETS]
            if key == "stream_dropped":
                idle = [results[f"{side}-{backend}"][case]["idle_dropped"] for side, backend in TARGETS]
                idle_frames = [results[f"{side}-{backend}"][case]["idle_frames"] for side, backend in TARGETS]
                ours = [results[f"{side}-{backend}"][case]["stream_dropped_ours"] for side, backend in TARGETS]
                cells = [
                    f"{v:.0f} / {f:.0f} (idle: {i:.0f} / {j:.0f}; by script: {o:.0f})"
                    for v, f, i, j, o in zip(values, frames, idle, idle_frames, ours, strict=True)
                ]
                lines.append(f"| {names[case]} | {label} | " + " | ".join(cells) + " | — | 0 dropped |")
                cpu = [results[f"{side}-{backend}"][case]["stream_script_cpu_p99"] for side, backend in TARGETS]
                best_cpu = min(cpu[1:])
                lines.append(
                    f"| {names[case]} | script CPU per frame, p99 (ms) | "
                    + " | ".join(f"{c:.1f}" for c in cpu)
                    + f" | {cpu[0] / best_cpu if best_cpu > 0 else float('nan'):.2f}x | — |"
                )
                continue
            best = min(values[1:])
            ratio = values[0] / best if best > 0 else float("nan")
            cells = [f"{v:.1f}" for v in values]
            lines.append(
                f"| {names[case]} | {label} | "
                + " | ".join(cells)
                + f" | {ratio:.2f}x | {'yes' if ratio <= 0.5 else '**no**'} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--frames", type=int, default=20, help="pans and zooms measured per run")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES), help="cases to run")
    parser.add_argument(
        "--targets", nargs="+", choices=[f"{s}-{b}" for s, b in TARGETS], default=None, help="targets to run"
    )
    args = parser.parse_args()
    targets = [(s, b) for s, b in TARGETS if args.targets is None or f"{s}-{b}" in args.targets]
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="docsync-render-") as tmp:
        items = Path(tmp)
        make_items(items)
        server = serve(items)
        url = f"http://127.0.0.1:{server.server_address[1]}"
        raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
        try:
            with sync_playwright() as playwright:
                browsers = {
                    kind: playwright.chromium.launch(executable_path=CHROMIUM, args=flags, headless=True)
                    for kind, flags in BROWSER_ARGS.items()
                }
                for rep in range(args.reps):
                    for case in args.cases:
                        # Alternate the targets so that a noisy moment hits all of them.
                        for side, backend in targets if rep % 2 == 0 else targets[::-1]:
                            run = run_one(browsers[backend], url, side, case, backend, args.seconds, args.frames)
                            raw.setdefault(f"{side}-{backend}", {}).setdefault(case, []).append(run)
                            print(f"rep {rep + 1} {case} {side}-{backend}: {_rep_line(run)}", flush=True)
                for browser in browsers.values():
                    browser.close()
        finally:
            server.shutdown()
    results = {target: {case: summarize(runs) for case, runs in cases.items()} for target, cases in raw.items()}
    if len(targets) < len(TARGETS) or len(args.cases) < len(CASES):
        # A partial run (while working on one case): figures only, the table and results stay as they were.
        for target, cases in results.items():
            for case, summary in cases.items():
                print(target, case, {k: round(v, 1) for k, v in summary.items()})
        return
    text = table(results)
    print(text)
    out = HERE / "results"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    chromium = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    bokeh = subprocess.run(
        [str(BOKEH_PYTHON), "-c", "import bokeh; print(bokeh.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    header = (
        f"Rendering benchmark, {stamp}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{chromium} headless (canvas: software, WebGL: SwiftShader); Bokeh {bokeh}; docsync at {commit}; "
        f"{args.reps} repetitions, medians."
    )
    (out / "render.md").write_text(header + "\n\n" + text + "\n")
    (out / "render.json").write_text(json.dumps({"header": header, "results": results, "raw": raw}, indent=1))


if __name__ == "__main__":
    main()
