/**
 * The default value of each property of the built-in models, as declared in
 * docsync/document/models/. The wire carries only the values a model was given, so a
 * view reads the rest from here; a browser test holds this table to the Python one.
 */

const WIDGET = { name: null, disabled: false, width: null, visible: true };
const LAYOUT = { name: null, children: [], spacing: 8, width: null, sizing_mode: "stretch_width" };
const GLYPH = { name: null, source: null, x: "x", y: "y", color: "#1f77b4", alpha: 1.0, legend_label: "" };

/** Default property values by model type name. */
export const DEFAULTS = {
  Div: { ...WIDGET, text: "" },
  Paragraph: { ...WIDGET, text: "" },
  Button: { ...WIDGET, label: "Button", button_type: "default" },
  Toggle: { ...WIDGET, label: "Toggle", active: false },
  Checkbox: { ...WIDGET, label: "", active: false },
  Slider: { ...WIDGET, title: "", start: 0.0, end: 1.0, step: 0.1, value: 0.0 },
  RangeSlider: { ...WIDGET, title: "", start: 0.0, end: 1.0, step: 0.1, value: [0.0, 1.0] },
  TextInput: { ...WIDGET, title: "", value: "", placeholder: "" },
  Select: { ...WIDGET, title: "", value: "", options: [] },
  DatePicker: { ...WIDGET, title: "", value: null, min_date: null, max_date: null },
  Row: { ...LAYOUT },
  Column: { ...LAYOUT },
  ColumnDataSource: { name: null, data: {}, selected: null },
  Selection: { name: null, indices: [], line_indices: [] },
  TableColumn: { name: null, field: "", title: "", width: null, sortable: true },
  DataTable: { name: null, source: null, columns: [], sortable: true, height: 300, width: null },
  Line: { ...GLYPH, line_width: 2.0 },
  Scatter: { ...GLYPH, size: 6.0, marker: "circle" },
  VBar: { ...GLYPH, width: 0.8, bottom: 0.0 },
  Plot: {
    name: null, title: "", x_axis_label: "", y_axis_label: "", renderers: [], width: null, height: 300,
    x_range: null, y_range: null, background: "white", show_grid: true, show_hover: true,
  },
};

/** Return the default of ``attr`` for models of ``type`` (undefined when none is known). */
export function defaultOf(type, attr) {
  return DEFAULTS[type]?.[attr];
}
