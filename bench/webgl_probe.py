"""What WebGL costs on this machine: the least a WebGL scatter could do per frame, measured in Chromium.

    python bench/webgl_probe.py [--points 100000] [--frames 20]

The evaluation behind docs/plotting.md's WebGL section. A page uploads N points (x, y
and an RGBA colour each) once, then draws them as round anti-aliased gl.POINTS of 4
pixels, panning by a uniform at each frame: no data travels again, no shader changes —
less work than any real WebGL renderer does (Bokeh's included). The time from the pan
to the drawn pixels (gl.readPixels of one pixel waits for them) is the frame's cost, and
the interval between animation frames the frame time, median of N. Chromium's WebGL
here is whatever the machine has (the renderer string is printed): SwiftShader on a
machine without a GPU. Compare with docsync's canvas pan frame of the same 100,000
points in bench/results/render.md.
"""

from __future__ import annotations

import argparse
import json
import os

CHROMIUM = os.environ.get("DOCSYNC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]

PAGE = r"""<!doctype html><html><body><canvas id="c" width="900" height="500"></canvas><script>
const canvas = document.getElementById("c");
const gl = canvas.getContext("webgl", { antialias: false, preserveDrawingBuffer: false });
const info = gl.getExtension("WEBGL_debug_renderer_info");
const renderer = info ? gl.getParameter(info.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
function shader(kind, text) {
  const s = gl.createShader(kind); gl.shaderSource(s, text); gl.compileShader(s);
  if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
  return s;
}
const program = gl.createProgram();
gl.attachShader(program, shader(gl.VERTEX_SHADER, `
  attribute vec2 xy; attribute vec4 rgba; uniform vec2 shift; uniform vec2 scale; varying vec4 colour;
  void main() { gl_Position = vec4((xy + shift) * scale, 0.0, 1.0); gl_PointSize = 4.0; colour = rgba; }`));
gl.attachShader(program, shader(gl.FRAGMENT_SHADER, `
  precision mediump float; varying vec4 colour;
  void main() { float d = length(gl_PointCoord - 0.5) * 4.0; float a = clamp(2.0 - d, 0.0, 1.0);
    if (a <= 0.0) discard; gl_FragColor = vec4(colour.rgb, colour.a * a); }`));
gl.linkProgram(program);
gl.useProgram(program);
gl.enable(gl.BLEND);
gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
window.probe = async (n, frames) => {
  let seed = 17;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const xy = new Float32Array(2 * n);
  const rgba = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    xy[2 * i] = random() * 6 - 3; xy[2 * i + 1] = random() * 6 - 3;
    rgba.set([68 + (i % 180), 1 + (i % 230), 84 + (i % 100), 255], 4 * i);
  }
  const t0 = performance.now();
  const attributes = [["xy", xy, 2, gl.FLOAT, false], ["rgba", rgba, 4, gl.UNSIGNED_BYTE, true]];
  for (const [name, data, size, type, norm] of attributes) {
    const buffer = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, buffer);
    gl.bufferData(gl.ARRAY_BUFFER, data, gl.STATIC_DRAW);
    const at = gl.getAttribLocation(program, name);
    gl.enableVertexAttribArray(at);
    gl.vertexAttribPointer(at, size, type, norm, 0, 0);
  }
  const pixel = new Uint8Array(4);
  const draw = (k) => {
    gl.uniform2f(gl.getUniformLocation(program, "shift"), 0.01 * k, 0);
    gl.uniform2f(gl.getUniformLocation(program, "scale"), 1 / 3, 1 / 3);
    gl.clearColor(1, 1, 1, 1);
    gl.clear(gl.COLOR_BUFFER_BIT);
    gl.drawArrays(gl.POINTS, 0, n);
    gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel); // waits for the pixels
  };
  draw(0);
  const first = performance.now() - t0;
  const costs = [];
  const intervals = [];
  await nextFrame();
  let last = performance.now();
  for (let k = 1; k <= frames; k++) {
    const start = performance.now();
    draw(k);
    costs.push(performance.now() - start);
    await nextFrame();
    const now = performance.now();
    intervals.push(now - last);
    last = now;
  }
  return { renderer, points: n, first_draw: first, cost_median: median(costs), frame_median: median(intervals) };
};
</script></body></html>"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--frames", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 700}, device_scale_factor=1)
            page.set_content(PAGE)
            result = page.evaluate(f"probe({args.points}, {args.frames})")
        finally:
            browser.close()
    print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
