/**
 * Annotations drawn over the frame: Span, BoxAnnotation, Label, LabelSet, Arrow (with
 * its heads), Band and Whisker. Each takes the context, the model, and ``view``:
 * {frame, x, y (the scales), prop, data(source), resolveNumbers(...)}.
 */

import { DASHES, setFill, setLine, setText } from "./paint.js";
import { at, resolveNumbers, resolveStrings, resolveVisuals, rowCount } from "./specs.js";

function visuals(model, view, kinds) {
  const look = { scale: 1 };
  for (const kind of kinds) look[kind] = resolveVisuals(kind, model, {}, 1, view.prop);
  return look;
}

function position(value, units, scale) {
  return units === "screen" ? value : scale.compute(value);
}

function drawSpan(ctx, model, view) {
  const { prop, frame } = view;
  const location = prop("location", model);
  if (location === null || location === undefined) return;
  const horizontal = prop("dimension", model) === "width";
  const p = position(location, prop("location_units", model), horizontal ? view.y : view.x);
  const look = visuals(model, view, ["line"]);
  if (!setLine(ctx, look.line, 0)) return;
  ctx.beginPath();
  if (horizontal) {
    ctx.moveTo(frame.left, p);
    ctx.lineTo(frame.right, p);
  } else {
    ctx.moveTo(p, frame.top);
    ctx.lineTo(p, frame.bottom);
  }
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
}

function drawBox(ctx, model, view) {
  const { prop, frame } = view;
  const edge = (attr, scale, fallback) => {
    const v = prop(attr, model);
    return v === null || v === undefined ? fallback : position(v, prop(`${attr}_units`, model), scale);
  };
  const left = edge("left", view.x, frame.left);
  const right = edge("right", view.x, frame.right);
  const top = edge("top", view.y, frame.top);
  const bottom = edge("bottom", view.y, frame.bottom);
  const look = visuals(model, view, ["line", "fill"]);
  ctx.beginPath();
  ctx.rect(Math.min(left, right), Math.min(top, bottom), Math.abs(right - left), Math.abs(bottom - top));
  if (setFill(ctx, look.fill, 0)) ctx.fill();
  if (setLine(ctx, look.line, 0)) ctx.stroke();
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
}

function drawTextAt(ctx, text, x, y, angle) {
  if (angle) {
    ctx.save();
    ctx.translate(x, y);
    ctx.rotate(-angle);
    ctx.fillText(text, 0, 0);
    ctx.restore();
  } else ctx.fillText(text, x, y);
}

function drawLabel(ctx, model, view) {
  const { prop } = view;
  const x = position(prop("x", model), prop("x_units", model), view.x) + prop("x_offset", model);
  const y = position(prop("y", model), prop("y_units", model), view.y) - prop("y_offset", model);
  const look = visuals(model, view, ["text"]);
  const text = prop("text", model);
  const background = prop("background_fill_color", model);
  if (background && setText(ctx, look.text, 0)) {
    const width = ctx.measureText(text).width;
    const size = parseFloat(look.text.size) || 13;
    const alignShift = { left: 0, center: -width / 2, right: -width }[look.text.align] ?? 0;
    const baseShift = { top: 0, middle: -size / 2, bottom: -size, alphabetic: -size * 0.8 }[look.text.baseline] ?? -size;
    ctx.fillStyle = background;
    ctx.globalAlpha = prop("background_fill_alpha", model);
    ctx.fillRect(x + alignShift - 3, y + baseShift - 2, width + 6, size + 4);
  }
  if (setText(ctx, look.text, 0)) drawTextAt(ctx, text, x, y, prop("angle", model));
  ctx.globalAlpha = 1;
}

function sourceData(model, view) {
  const source = view.prop("source", model);
  return source ? view.prop("data", source) ?? {} : {};
}

function drawLabelSet(ctx, model, view) {
  const { prop } = view;
  const data = sourceData(model, view);
  const n = rowCount(data);
  const xs = resolveNumbers(prop("x", model), data, n, prop, view.xFactors);
  const ys = resolveNumbers(prop("y", model), data, n, prop, view.yFactors);
  const texts = resolveStrings(prop("text", model), data, n, prop);
  const dx = resolveNumbers(prop("x_offset", model), data, n, prop);
  const dy = resolveNumbers(prop("y_offset", model), data, n, prop);
  const angle = resolveNumbers(prop("angle", model), data, n, prop);
  const text = resolveVisuals("text", model, data, n, prop);
  for (let i = 0; i < n; i++) {
    const x = position(at(xs, i), prop("x_units", model), view.x) + at(dx, i);
    const y = position(at(ys, i), prop("y_units", model), view.y) - at(dy, i);
    if (x === x && y === y && setText(ctx, text, i)) drawTextAt(ctx, at(texts, i), x, y, at(angle, i));
  }
  ctx.globalAlpha = 1;
}

/** A head's own line and fill, in the shape setLine and setFill take (a head has one value of each). */
function headLook(head, prop) {
  const get = (attr) => prop(attr, head);
  return {
    line: {
      color: get("line_color"),
      alpha: get("line_alpha") ?? 1,
      width: get("line_width"),
      dash: get("line_dash"),
      dashOffset: get("line_dash_offset"),
      cap: get("line_cap"),
      join: get("line_join"),
    },
    fill: { color: get("fill_color"), alpha: get("fill_alpha") ?? 1 },
  };
}

/** Draw an arrow head of ``head`` at (x, y) pointing along ``angle`` (radians, screen). */
function drawHead(ctx, head, x, y, angle, prop) {
  if (!head) return;
  const size = prop("size", head);
  const back = (a) => [x - size * Math.cos(angle + a), y - size * Math.sin(angle + a)];
  ctx.save();
  ctx.beginPath();
  if (head.type === "TeeHead") {
    const h = size / 2;
    ctx.moveTo(x + h * Math.sin(angle), y - h * Math.cos(angle));
    ctx.lineTo(x - h * Math.sin(angle), y + h * Math.cos(angle));
  } else {
    const [ax, ay] = back(0.4);
    const [bx, by] = back(-0.4);
    ctx.moveTo(ax, ay);
    ctx.lineTo(x, y);
    ctx.lineTo(bx, by);
    if (head.type === "VeeHead") {
      const [cx, cy] = back(0);
      ctx.lineTo(x - (x - cx) * 0.5, y - (y - cy) * 0.5);
    }
    if (head.type !== "OpenHead") ctx.closePath();
  }
  const look = headLook(head, prop);
  if (head.type !== "OpenHead" && head.type !== "TeeHead" && setFill(ctx, look.fill, 0)) ctx.fill();
  if (setLine(ctx, look.line, 0)) ctx.stroke();
  ctx.restore();
}

function drawArrow(ctx, model, view) {
  const { prop } = view;
  const look = visuals(model, view, ["line"]);
  const source = prop("source", model);
  const rows = [];
  if (source) {
    const data = view.prop("data", source) ?? {};
    const col = (attr) => data[prop(attr, model)] ?? [];
    const x0 = col("x_start_field");
    const y0 = col("y_start_field");
    const x1 = col("x_end_field");
    const y1 = col("y_end_field");
    for (let i = 0; i < rowCount(data); i++) rows.push([x0[i], y0[i], x1[i], y1[i]]);
  } else rows.push([prop("x_start", model), prop("y_start", model), prop("x_end", model), prop("y_end", model)]);
  for (const [xs, ys, xe, ye] of rows) {
    const sx0 = view.x.compute(xs);
    const sy0 = view.y.compute(ys);
    const sx1 = view.x.compute(xe);
    const sy1 = view.y.compute(ye);
    if (setLine(ctx, look.line, 0)) {
      ctx.beginPath();
      ctx.moveTo(sx0, sy0);
      ctx.lineTo(sx1, sy1);
      ctx.stroke();
    }
    const angle = Math.atan2(sy1 - sy0, sx1 - sx0);
    ctx.globalAlpha = 1;
    drawHead(ctx, prop("end", model), sx1, sy1, angle, prop);
    drawHead(ctx, prop("start", model), sx0, sy0, angle + Math.PI, prop);
  }
  ctx.setLineDash([]);
}

function bandRows(model, view) {
  const { prop } = view;
  const data = sourceData(model, view);
  const n = rowCount(data);
  const along = prop("dimension", model) === "height";
  const base = resolveNumbers(prop("base", model), data, n, prop, along ? view.xFactors : view.yFactors);
  const lower = resolveNumbers(prop("lower", model), data, n, prop);
  const upper = resolveNumbers(prop("upper", model), data, n, prop);
  const points = [];
  for (let i = 0; i < n; i++) {
    const b = at(base, i);
    const lo = at(lower, i);
    const hi = at(upper, i);
    points.push(along ? [view.x.compute(b), view.y.compute(lo), view.y.compute(hi)] : [view.y.compute(b), view.x.compute(lo), view.x.compute(hi)]);
  }
  return { points, along };
}

function drawBand(ctx, model, view) {
  const { points, along } = bandRows(model, view);
  if (!points.length) return;
  const look = visuals(model, view, ["line", "fill"]);
  const xy = (a, b) => (along ? [a, b] : [b, a]);
  ctx.beginPath();
  points.forEach(([a, lo], k) => ctx[k ? "lineTo" : "moveTo"](...xy(a, lo)));
  for (let k = points.length - 1; k >= 0; k--) ctx.lineTo(...xy(points[k][0], points[k][2]));
  ctx.closePath();
  if (setFill(ctx, look.fill, 0)) ctx.fill();
  if (setLine(ctx, look.line, 0)) {
    ctx.beginPath();
    points.forEach(([a, lo], k) => ctx[k ? "lineTo" : "moveTo"](...xy(a, lo)));
    ctx.moveTo(...xy(points[0][0], points[0][2]));
    points.forEach(([a, , hi]) => ctx.lineTo(...xy(a, hi)));
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
}

function drawWhisker(ctx, model, view) {
  const { prop } = view;
  const { points, along } = bandRows(model, view);
  const look = visuals(model, view, ["line"]);
  if (!setLine(ctx, look.line, 0)) return;
  ctx.beginPath();
  for (const [a, lo, hi] of points) {
    if (along) {
      ctx.moveTo(a, lo);
      ctx.lineTo(a, hi);
    } else {
      ctx.moveTo(lo, a);
      ctx.lineTo(hi, a);
    }
  }
  ctx.stroke();
  ctx.globalAlpha = 1;
  for (const [a, lo, hi] of points) {
    const up = along ? -Math.PI / 2 : 0;
    drawHead(ctx, prop("upper_head", model), along ? a : hi, along ? hi : a, up, prop);
    drawHead(ctx, prop("lower_head", model), along ? a : lo, along ? lo : a, up + Math.PI, prop);
  }
  ctx.setLineDash([]);
}

/** The annotations drawn in the frame, by type. */
export const ANNOTATIONS = {
  Span: drawSpan,
  BoxAnnotation: drawBox,
  Label: drawLabel,
  LabelSet: drawLabelSet,
  Arrow: drawArrow,
  Band: drawBand,
  Whisker: drawWhisker,
};

export { DASHES };
