"""The two pages of the rendering benchmark: the same measurements over docsync's client and over BokehJS.

Each page defines ``window.bench`` with ``firstPaint(name)``, ``frames(kind, n)``,
``stream(seconds)`` and ``idle(seconds)`` (the same count of frames with nothing appended:
what the machine alone drops); bench/render.py drives them in Chromium. A frame's cost is the
time from the frame's start to a callback queued after the library's own redraw in
that frame:
the work the library did to draw it.
"""

from __future__ import annotations

COMMON = r"""
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const median = (xs) => (xs.length ? sorted(xs)[Math.floor(xs.length / 2)] : NaN);
const p90 = (xs) => (xs.length ? sorted(xs)[Math.floor(xs.length * 0.9)] : NaN);

// Change the range at the start of a frame; measure, in the next frame, how long the
// callbacks before ours took: the library's redraw.
async function measureFrames(change, n) {
  const costs = [];
  const intervals = [];
  await nextFrame();
  let last = performance.now();
  for (let i = 0; i < n; i++) {
    change(i);
    const cost = await new Promise((resolve) => requestAnimationFrame((ts) => resolve(performance.now() - ts)));
    const now = performance.now();
    costs.push(cost);
    intervals.push(now - last);
    last = now;
  }
  return { cost_median: median(costs), cost_p90: p90(costs), interval_median: median(intervals) };
}

// Append 10 points every 50 ms for ``seconds``; count frames and the dropped ones. A
// frame is dropped when the animation frame's timestamp (the vsync it was begun for, the
// same for every callback of the frame) is over 1.5 frame periods after the previous
// one's: a vsync went by without a frame. (The time our callback ran is no measure of
// that: a callback that starts late in a frame which still makes its vsync is not a
// dropped frame; ``late`` counts those gaps, for comparison.) Each frame's end is
// returned too, on the clock of the "bench-frames" mark (performance.now() at the mark
// is ``mark``), so that bench/render.py can find in a trace what ran in it.
async function measureStream(append, seconds) {
  const costs = [];
  const intervals = [];
  const vsyncs = [];
  const ends = [];
  let appended = 0;
  const timer = setInterval(() => { append(appended); appended += 10; }, 50);
  const mark = performance.mark("bench-frames").startTime;
  let last = performance.now();
  let lastStamp = await new Promise((resolve) => requestAnimationFrame(resolve));
  const stop = performance.now() + seconds * 1000;
  while (performance.now() < stop) {
    const stamp = await new Promise((resolve) => requestAnimationFrame(resolve));
    const now = performance.now();
    costs.push(now - stamp);
    intervals.push(now - last);
    vsyncs.push(stamp - lastStamp);
    ends.push(now - mark);
    last = now;
    lastStamp = stamp;
  }
  clearInterval(timer);
  const period = median(vsyncs);
  const frame = median(intervals);
  return {
    frames: vsyncs.length, appended, cost_median: median(costs), cost_p90: p90(costs),
    interval_median: frame, vsync_median: period,
    dropped: vsyncs.filter((t) => t > 1.5 * period).length,
    late: intervals.filter((t) => t > 1.5 * frame).length,
    frame_ends: ends, frame_intervals: intervals, frame_vsyncs: vsyncs,
  };
}
"""

DOCSYNC_PAGE = (
    r"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/docsync/docsync.css"></head>
<body><div id="root" class="docsync-root" style="width: 960px"></div>
<script type="module">
import { Document } from "/docsync/document.js";
import { ViewContext } from "/docsync/views/factory.js";
import { DocumentView } from "/docsync/views/document_view.js";
"""
    + COMMON
    + r"""
let doc = null;
let plot = null;
window.bench = {
  async firstPaint(name) {
    const item = await (await fetch(`/items/${name}.json`)).json();
    await nextFrame();
    const t0 = performance.now();
    doc = Document.fromJSON(item, new Map());
    const decoded = performance.now();
    const context = new ViewContext({ document: doc, sendMessage() {} }, {});
    const view = new DocumentView(doc, context);
    document.getElementById("root").append(view.el);
    const el = view.el.querySelector(".ds-plot");
    while (!(el.docsyncView.drawCount > 0)) await nextFrame();
    const t1 = performance.now();
    plot = doc.getModelByName("plot");
    return { decode: decoded - t0, first_paint: t1 - t0 };
  },
  frames(kind, n) {
    const range = plot.get("x_range");
    const view = document.querySelector(".ds-plot").docsyncView;
    const [s0, e0] = [view.plan.scales.x.default.start, view.plan.scales.x.default.end];
    const span = e0 - s0;
    return measureFrames((i) => {
      const k = i + 1;
      const shift = span * 0.01 * k;
      const [s, e] = kind === "pan" ? [s0 + shift, e0 + shift] : [s0 + shift, e0 - shift];
      range.set("start", s);
      range.set("end", e);
    }, n);
  },
  idle(seconds) {
    return measureStream(() => {}, seconds);
  },
  stream(seconds) {
    const source = doc.getModelByName("source");
    let x = source.get("data").x.length;
    return measureStream(() => {
      const xs = new Float64Array(10);
      const ys = new Float64Array(10);
      for (let i = 0; i < 10; i++) { xs[i] = x++; ys[i] = Math.sin(x / 100) * 50; }
      source.stream("data", { x: xs, y: ys }, 100000);
    }, seconds);
  },
};
window.benchReady = true;
</script></body></html>"""
)

BOKEH_PAGE = (
    r"""<!doctype html><html><head><meta charset="utf-8">
<script src="/bokeh/bokeh.min.js"></script><script src="/bokeh/bokeh-gl.min.js"></script></head>
<body><div id="root" style="width: 960px"></div>
<script>
"""
    + COMMON
    + r"""
let plot = null;
let source = null;
function plotView() {
  for (const root of Bokeh.index.roots ?? Object.values(Bokeh.index)) return root;
  return null;
}
window.bench = {
  async firstPaint(name) {
    const item = await (await fetch(`/items/${name}.json`)).json();
    await nextFrame();
    const t0 = performance.now();
    await Bokeh.embed.embed_item(item, "root");
    const view = plotView();
    while (!(view && view.has_finished())) await nextFrame();
    await nextFrame();
    const t1 = performance.now();
    const doc = Bokeh.documents[Bokeh.documents.length - 1];
    plot = doc.get_model_by_name("plot");
    source = doc.get_model_by_name("source");
    const webgl = Boolean(view.canvas_view?.webgl ?? view.canvas?.webgl);
    return { first_paint: t1 - t0, webgl };
  },
  frames(kind, n) {
    const view = plotView();
    const s0 = view.frame.x_range.start;
    const e0 = view.frame.x_range.end;
    const span = e0 - s0;
    return measureFrames((i) => {
      const k = i + 1;
      const shift = span * 0.01 * k;
      const [s, e] = kind === "pan" ? [s0 + shift, e0 + shift] : [s0 + shift, e0 - shift];
      plot.x_range.setv({ start: s, end: e });
    }, n);
  },
  idle(seconds) {
    return measureStream(() => {}, seconds);
  },
  stream(seconds) {
    let x = source.data.x.length;
    return measureStream(() => {
      const xs = new Float64Array(10);
      const ys = new Float64Array(10);
      for (let i = 0; i < 10; i++) { xs[i] = x++; ys[i] = Math.sin(x / 100) * 50; }
      source.stream({ x: xs, y: ys }, 100000);
    }, seconds);
  },
};
window.benchReady = true;
</script></body></html>"""
)
