/**
 * Geometry for hit tests, in CSS pixels: points in boxes and polygons, distances to
 * segments. A selection geometry is {type: "point", sx, sy} | {type: "rect", sx0, sx1,
 * sy0, sy1} (sorted) | {type: "poly", sxs, sys}.
 */

/** Tell whether (x, y) lies inside the polygon (even-odd rule). */
export function inPolygon(x, y, xs, ys) {
  let inside = false;
  for (let i = 0, j = xs.length - 1; i < xs.length; j = i++) {
    if (ys[i] > y !== ys[j] > y && x < ((xs[j] - xs[i]) * (y - ys[i])) / (ys[j] - ys[i]) + xs[i]) inside = !inside;
  }
  return inside;
}

/** Tell whether point (x, y) is inside ``geometry`` (rect or poly); ``slack`` widens a point test. */
export function pointInGeometry(geometry, x, y, slack = 0) {
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  if (geometry.type === "rect") return x >= geometry.sx0 && x <= geometry.sx1 && y >= geometry.sy0 && y <= geometry.sy1;
  if (geometry.type === "poly") return inPolygon(x, y, geometry.sxs, geometry.sys);
  const dx = x - geometry.sx;
  const dy = y - geometry.sy;
  return dx * dx + dy * dy <= slack * slack;
}

/** Tell whether the box [l, r] × [t, b] meets ``geometry``. */
export function boxInGeometry(geometry, l, r, t, b) {
  const left = Math.min(l, r);
  const right = Math.max(l, r);
  const top = Math.min(t, b);
  const bottom = Math.max(t, b);
  if (!(Number.isFinite(left) && Number.isFinite(right) && Number.isFinite(top) && Number.isFinite(bottom))) return false;
  if (geometry.type === "point") return geometry.sx >= left && geometry.sx <= right && geometry.sy >= top && geometry.sy <= bottom;
  if (geometry.type === "rect") return left <= geometry.sx1 && right >= geometry.sx0 && top <= geometry.sy1 && bottom >= geometry.sy0;
  return inPolygon((left + right) / 2, (top + bottom) / 2, geometry.sxs, geometry.sys);
}

/** Return the squared distance from (px, py) to the segment (x0, y0)–(x1, y1). */
export function segmentDistance2(px, py, x0, y0, x1, y1) {
  const dx = x1 - x0;
  const dy = y1 - y0;
  const length2 = dx * dx + dy * dy;
  let t = length2 > 0 ? ((px - x0) * dx + (py - y0) * dy) / length2 : 0;
  t = Math.max(0, Math.min(1, t));
  const ex = x0 + t * dx - px;
  const ey = y0 + t * dy - py;
  return ex * ex + ey * ey;
}
