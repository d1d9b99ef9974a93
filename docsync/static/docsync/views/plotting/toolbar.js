/**
 * The toolbar: a button per tool, grouped by gesture; a drag, scroll or tap tool's
 * button makes it the active one of its gesture (client-writable on the Toolbar, so
 * Python sees it), inspectors toggle, actions (reset, save) act at once.
 */

const SVG = "http://www.w3.org/2000/svg";

// Icon paths on a 20 × 20 grid, drawn with a stroke.
const ICONS = {
  PanTool: "M10 2v16M2 10h16M10 2l-3 3M10 2l3 3M10 18l-3-3M10 18l3-3M2 10l3-3M2 10l3 3M18 10l-3-3M18 10l-3 3",
  WheelZoomTool: "M8.5 3a5.5 5.5 0 1 0 0 11a5.5 5.5 0 1 0 0-11M12.5 12.5L18 18M8.5 6v5M6 8.5h5",
  BoxZoomTool: "M3 3h7v7H3zM12.5 12.5a3 3 0 1 0 .01 0M15 15l3 3",
  ResetTool: "M16 10a6 6 0 1 1-2-4.5M14 2v4h4",
  SaveTool: "M10 3v10M6 9l4 4l4-4M3 15v2h14v-2",
  HoverTool: "M3 4h14v9H9l-4 3v-3H3z",
  CrosshairTool: "M10 2v16M2 10h16",
  TapTool: "M10 10m-2.5 0a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0-5 0M10 3v2M10 15v2M3 10h2M15 10h2",
  BoxSelectTool: "M3 3h14v14H3z",
  LassoSelectTool: "M5 6c3-4 11-3 11 2s-8 6-11 3s0-5 3-4M6 11l-2 6",
};
const NAMES = {
  PanTool: "Pan", WheelZoomTool: "Wheel zoom", BoxZoomTool: "Box zoom", ResetTool: "Reset the view", SaveTool: "Save as PNG",
  HoverTool: "Hover", CrosshairTool: "Crosshair", TapTool: "Tap", BoxSelectTool: "Box select", LassoSelectTool: "Lasso select",
};
export const DRAG_TOOLS = new Set(["PanTool", "BoxZoomTool", "BoxSelectTool", "LassoSelectTool"]);
export const SCROLL_TOOLS = new Set(["WheelZoomTool"]);
export const TAP_TOOLS = new Set(["TapTool"]);
export const INSPECTORS = new Set(["HoverTool", "CrosshairTool"]);
const ACTIONS = new Set(["ResetTool", "SaveTool"]);

function icon(type) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 20 20");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", ICONS[type] ?? "M4 4h12v12H4z");
  svg.append(path);
  return svg;
}

/** Return the gesture a tool type belongs to: "drag", "scroll", "tap", "inspect" or "action". */
export function gestureOf(type) {
  if (DRAG_TOOLS.has(type)) return "drag";
  if (SCROLL_TOOLS.has(type)) return "scroll";
  if (TAP_TOOLS.has(type)) return "tap";
  if (INSPECTORS.has(type)) return "inspect";
  return ACTIONS.has(type) ? "action" : null;
}

/** Return the active tools {drag, scroll, tap, inspect: [..]} of a toolbar (resolving "auto" as Bokeh does). */
export function activeTools(toolbar, prop) {
  const tools = toolbar ? (prop("tools", toolbar) ?? []).filter(Boolean) : [];
  const pick = (attr, set, auto) => {
    const value = toolbar ? prop(attr, toolbar) : "auto";
    if (value === "auto") return auto ? tools.find((t) => set.has(t.type)) ?? null : null;
    return value && tools.includes(value) ? value : null;
  };
  const inspectValue = toolbar ? prop("active_inspect", toolbar) : "auto";
  let inspect;
  if (inspectValue === "auto") inspect = tools.filter((t) => INSPECTORS.has(t.type));
  else inspect = [].concat(inspectValue ?? []).filter((t) => tools.includes(t));
  // Bokeh leaves the wheel free for the page unless a scroll tool is made active.
  return { tools, drag: pick("active_drag", DRAG_TOOLS, true), scroll: pick("active_scroll", SCROLL_TOOLS, false), tap: pick("active_tap", TAP_TOOLS, true), inspect };
}

/** Fill ``el`` with the toolbar's buttons; ``onAction(tool)`` runs reset and save. */
export function renderToolbar(el, toolbar, prop, { onAction }) {
  const active = activeTools(toolbar, prop);
  const buttons = active.tools
    .filter((tool) => gestureOf(tool.type))
    .map((tool) => {
      const gesture = gestureOf(tool.type);
      const on = gesture === "inspect" ? active.inspect.includes(tool) : active[gesture] === tool;
      const label = prop("description", tool) ?? NAMES[tool.type] ?? tool.type;
      const button = document.createElement("button");
      button.type = "button";
      button.className = `ds-tool ds-tool-${tool.type}`;
      button.title = label;
      button.setAttribute("aria-label", label);
      if (gesture !== "action") button.setAttribute("aria-pressed", String(on));
      button.dataset.tool = tool.type;
      button.append(icon(tool.type));
      button.addEventListener("click", () => {
        if (gesture === "action") onAction(tool);
        else if (gesture === "inspect") {
          const current = activeTools(toolbar, prop).inspect;
          toolbar.set("active_inspect", current.includes(tool) ? current.filter((t) => t !== tool) : [...current, tool]);
        } else {
          const attr = `active_${gesture}`;
          toolbar.set(attr, activeTools(toolbar, prop)[gesture] === tool ? null : tool);
        }
      });
      return button;
    });
  el.replaceChildren(...buttons);
  el.hidden = buttons.length === 0;
}
