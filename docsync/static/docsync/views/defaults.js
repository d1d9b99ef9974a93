/**
 * The default value of each property of the built-in models, as declared in
 * docsync/document/models/. The wire carries only the values a model was given, so a
 * view reads the rest from here; a browser test holds this table to the Python one.
 */

import { PLOT_DEFAULTS } from "./plotting/defaults.js";

const UI = {
  name: null, visible: true, width: null, height: null, min_width: null, min_height: null, max_width: null,
  max_height: null, sizing_mode: null, css_classes: [],
};
const WIDGET = { ...UI, disabled: false };
const LAYOUT = { ...UI, children: [], spacing: 8 };
const TITLED = { ...WIDGET, title: "" };
const TEXT_INPUT = { ...TITLED, value: "", placeholder: "", max_length: null };
const NUMERIC = { ...TITLED, value: null, low: null, high: null, mode: "int", placeholder: "" };
const DATES = { ...TITLED, value: null, min_date: null, max_date: null };
const GROUP = { ...WIDGET, labels: [] };
const BUTTONS = { button_type: "default", orientation: "horizontal" };

/** Default property values by model type name. */
export const DEFAULTS = {
  Div: { ...WIDGET, text: "" },
  Paragraph: { ...WIDGET, text: "" },
  Button: { ...WIDGET, label: "Button", button_type: "default" },
  Toggle: { ...WIDGET, label: "Toggle", active: false },
  Checkbox: { ...WIDGET, label: "", active: false },
  Slider: { ...TITLED, start: 0.0, end: 1.0, step: 0.1, value: 0.0 },
  RangeSlider: { ...TITLED, start: 0.0, end: 1.0, step: 0.1, value: [0.0, 1.0] },
  DateRangeSlider: { ...TITLED, value: null, start: null, end: null, step: 1 },
  TextInput: { ...TEXT_INPUT },
  PasswordInput: { ...TEXT_INPUT },
  AutocompleteInput: {
    ...TEXT_INPUT, completions: [], min_characters: 2, max_completions: null, case_sensitive: true, restrict: true,
    search_strategy: "starts_with",
  },
  TextAreaInput: { ...TEXT_INPUT, rows: 2, cols: 20 },
  NumericInput: { ...NUMERIC },
  Spinner: { ...NUMERIC, step: 1.0, page_step_multiplier: 10.0 },
  ColorPicker: { ...TITLED, color: "#000000" },
  Select: { ...TITLED, value: "", options: [] },
  MultiSelect: { ...TITLED, value: [], options: [], size: 4 },
  MultiChoice: { ...TITLED, value: [], options: [], placeholder: null, max_items: null },
  CheckboxGroup: { ...GROUP, active: [], inline: false },
  RadioGroup: { ...GROUP, active: null, inline: false },
  CheckboxButtonGroup: { ...GROUP, active: [], ...BUTTONS },
  RadioButtonGroup: { ...GROUP, active: null, ...BUTTONS },
  Switch: { ...WIDGET, label: "", active: false },
  Dropdown: { ...WIDGET, label: "Dropdown", button_type: "default", menu: [], split: false },
  DatePicker: { ...DATES },
  DateRangePicker: { ...DATES },
  DatetimePicker: { ...DATES },
  TimePicker: { ...TITLED, value: null, min_time: null, max_time: null, seconds: false },
  FileInput: { ...TITLED, accept: "", multiple: false, max_size: null, filename: "", mime_type: "" },
  HTML: { ...WIDGET, text: "" },
  Markdown: { ...WIDGET, text: "", html: "" },
  Image: { ...WIDGET, data: null, format: null, alt: "" },
  Progress: { ...TITLED, value: null, max: 100.0 },
  Alert: { ...WIDGET, text: "", alert_type: "info" },
  Row: { ...LAYOUT, spacing: 16 },
  Column: { ...LAYOUT },
  Card: { ...LAYOUT, title: "", collapsed: false, collapsible: true },
  GridBox: { ...UI, children: [], spacing: 8 },
  Spacer: { ...UI },
  Tabs: { ...UI, tabs: [], active: 0, tabs_location: "above" },
  TabPanel: { name: null, title: "", child: null, disabled: false },
  ColumnDataSource: { name: null, data: {}, selected: null },
  Selection: { name: null, indices: [], line_indices: [] },
  TableColumn: { name: null, field: "", title: "", width: null, sortable: true, formatter: null, editor: null },
  DataTable: {
    ...WIDGET, height: 300, source: null, columns: [], sortable: true, selectable: true, editable: false,
    page_size: null, index_position: null,
  },
  StringFormatter: { name: null },
  NumberFormatter: { name: null, format: "0,0", nan_format: "NaN" },
  DateFormatter: { name: null, format: "ISO", nan_format: "" },
  HTMLTemplateFormatter: { name: null, template: "<%= value %>" },
  StringEditor: { name: null },
  IntEditor: { name: null, step: 1 },
  NumberEditor: { name: null, step: 0.01 },
  SelectEditor: { name: null, options: [] },
  CheckboxEditor: { name: null },
  DateEditor: { name: null },
  ...PLOT_DEFAULTS,
};

/** Return the default of ``attr`` for models of ``type`` (undefined when none is known). */
export function defaultOf(type, attr) {
  return DEFAULTS[type]?.[attr];
}
