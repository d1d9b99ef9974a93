/**
 * Sizes of every view, as Bokeh's sizing modes describe them: ``width``/``height`` in
 * pixels, min/max sizes, and ``sizing_mode`` (none, fixed, stretch_width,
 * stretch_height, stretch_both). The element gets inline sizes and a
 * ``data-ds-sizing`` attribute; docsync.css turns the mode into flex rules.
 */

/** The properties ``applySizing`` reads. */
export const SIZING_ATTRS = ["width", "height", "min_width", "min_height", "max_width", "max_height", "sizing_mode", "css_classes"];

const px = (value) => (Number.isFinite(value) ? `${value}px` : "");

/** Apply the sizing properties of ``view``'s model to ``view.el`` (``target``: another element). */
export function applySizing(view, target = view.el) {
  const mode = view.prop("sizing_mode");
  const stretchWidth = mode === "stretch_width" || mode === "stretch_both";
  const stretchHeight = mode === "stretch_height" || mode === "stretch_both";
  const width = stretchWidth ? null : view.prop("width");
  const height = stretchHeight ? null : view.prop("height");
  const style = target.style;
  style.width = px(width);
  style.height = px(height);
  style.minWidth = px(view.prop("min_width"));
  style.minHeight = px(view.prop("min_height"));
  style.maxWidth = px(view.prop("max_width"));
  style.maxHeight = px(view.prop("max_height"));
  target.dataset.dsSizing = mode ?? "auto";
  target.classList.toggle("ds-fixed-width", Number.isFinite(width));
  target.classList.toggle("ds-sizing-fixed", mode === "fixed");
  const classes = (view.prop("css_classes") ?? []).filter((name) => typeof name === "string" && /^[\w-]+$/.test(name));
  for (const name of view._cssClasses ?? []) if (!classes.includes(name)) target.classList.remove(name);
  for (const name of classes) target.classList.add(name);
  view._cssClasses = classes;
}
