/**
 * Which view shows which model: the built-in views by type name, and the views custom
 * models name, imported on demand from the URL the server gives for their type (asked
 * of the server the first time a document holds a model of that type).
 */

import { h } from "./dom.js";
import { ButtonView, CheckboxView, ToggleView } from "./buttons.js";
import {
  CheckboxButtonGroupView, CheckboxGroupView, MultiSelectView, RadioButtonGroupView, RadioGroupView, SwitchView,
} from "./choices.js";
import { AutocompleteInputView, MultiChoiceView } from "./combobox.js";
import { GridBoxView } from "./grid.js";
import { DatePickerView, PasswordInputView, SelectView, TextAreaInputView, TextInputView } from "./inputs.js";
import { CardView, ColumnView, RowView, SpacerView } from "./layouts.js";
import { DropdownView } from "./menus.js";
import { NumericInputView, SpinnerView } from "./numbers.js";
import { AlertView, HTMLView, ImageView, ProgressView } from "./panes.js";
import { ColorPickerView, DateRangePickerView, DatetimePickerView, TimePickerView } from "./pickers.js";
import { PlotView } from "./plot.js";
import { PLOT_DEFAULTS } from "./plotting/defaults.js";
import { DateRangeSliderView, RangeSliderView, SliderView } from "./sliders.js";
import { DataTableView } from "./table.js";
import { TabsView } from "./tabs.js";
import { TextView } from "./text.js";
import { FileInputView } from "./upload.js";
import { HiddenView, UnknownView, View } from "./view.js";

/** The built-in views, by model type name. */
export const BUILTIN_VIEWS = {
  Div: TextView,
  Paragraph: TextView,
  Button: ButtonView,
  Toggle: ToggleView,
  Checkbox: CheckboxView,
  Slider: SliderView,
  RangeSlider: RangeSliderView,
  DateRangeSlider: DateRangeSliderView,
  TextInput: TextInputView,
  PasswordInput: PasswordInputView,
  TextAreaInput: TextAreaInputView,
  AutocompleteInput: AutocompleteInputView,
  NumericInput: NumericInputView,
  Spinner: SpinnerView,
  ColorPicker: ColorPickerView,
  Select: SelectView,
  MultiSelect: MultiSelectView,
  MultiChoice: MultiChoiceView,
  CheckboxGroup: CheckboxGroupView,
  RadioGroup: RadioGroupView,
  CheckboxButtonGroup: CheckboxButtonGroupView,
  RadioButtonGroup: RadioButtonGroupView,
  Switch: SwitchView,
  Dropdown: DropdownView,
  DatePicker: DatePickerView,
  DateRangePicker: DateRangePickerView,
  DatetimePicker: DatetimePickerView,
  TimePicker: TimePickerView,
  FileInput: FileInputView,
  HTML: HTMLView,
  Markdown: HTMLView,
  Image: ImageView,
  Progress: ProgressView,
  Alert: AlertView,
  Row: RowView,
  Column: ColumnView,
  Card: CardView,
  GridBox: GridBoxView,
  Spacer: SpacerView,
  Tabs: TabsView,
  DataTable: DataTableView,
  ColumnDataSource: HiddenView,
  Selection: HiddenView,
  TabPanel: HiddenView,
  TableColumn: HiddenView,
  StringFormatter: HiddenView,
  NumberFormatter: HiddenView,
  DateFormatter: HiddenView,
  HTMLTemplateFormatter: HiddenView,
  StringEditor: HiddenView,
  IntEditor: HiddenView,
  NumberEditor: HiddenView,
  SelectEditor: HiddenView,
  CheckboxEditor: HiddenView,
  DateEditor: HiddenView,
  // Glyphs, ranges, axes, tools...: drawn by the plot that holds them.
  ...Object.fromEntries(Object.keys(PLOT_DEFAULTS).map((type) => [type, HiddenView])),
  Plot: PlotView,
};

/** Return the view class a module defines for ``type``: its default export, or the export named so. */
export function viewClassOf(module, type) {
  const found = [module.default, module[type], module[`${type}View`], module.views?.[type]].find(
    // A second copy of view.js (the module imported under another URL) still builds.
    (candidate) => typeof candidate === "function" && typeof candidate.prototype?.build === "function",
  );
  if (found === undefined) throw new TypeError(`the module of ${type} exports no View subclass for it`);
  return found;
}

/** Builds the view of any model of one embed. */
export class ViewFactory {
  /**
   * ``viewModules``: {type name: module URL} known in advance; ``viewModulesUrl``: where
   * to ask for the module of any other type (``?type=<name>`` answers {name: URL}, or
   * {} when the type has none); ``fetch``: injected by tests.
   */
  constructor(context, viewModules = {}, { viewModulesUrl = null, fetch = (url) => globalThis.fetch(url) } = {}) {
    this.context = context;
    this.viewModules = { ...viewModules };
    this.viewModulesUrl = viewModulesUrl;
    this._fetch = fetch;
    this._classes = new Map(Object.entries(BUILTIN_VIEWS));
    this._loading = new Map();
  }

  /** Use ``ViewClass`` for models of ``type`` (overrides a built-in view). */
  register(type, ViewClass) {
    this._classes.set(type, ViewClass);
  }

  /** Return a built view of ``model``; a custom model's view may arrive a moment later. */
  build(model) {
    const ViewClass = this._classes.get(model.type);
    if (ViewClass !== undefined) return new ViewClass(model, this.context).build();
    if (Object.hasOwn(this.viewModules, model.type) || this.viewModulesUrl) {
      return new PendingView(model, this.context, this.load(model.type)).build();
    }
    return new UnknownView(model, this.context).build();
  }

  /** Import the view module of ``type`` (once); resolve with its view class, or null if it has none. */
  load(type) {
    if (!this._loading.has(type)) {
      const loading = this._moduleUrl(type).then(async (url) => {
        if (url === null) return null;
        const ViewClass = viewClassOf(await import(url), type);
        this._classes.set(type, ViewClass);
        return ViewClass;
      });
      this._loading.set(type, loading);
    }
    return this._loading.get(type);
  }

  async _moduleUrl(type) {
    if (Object.hasOwn(this.viewModules, type)) return this.viewModules[type];
    const url = new URL(this.viewModulesUrl, globalThis.location?.href);
    url.searchParams.set("type", type);
    const response = await this._fetch(url.href);
    if (!response.ok) throw new Error(`${url.href} answered ${response.status}`);
    const modules = await response.json();
    return typeof modules[type] === "string" ? modules[type] : null;
  }
}

/** Stands in for a custom model's view while its module loads, then becomes it. */
class PendingView extends View {
  constructor(model, context, loading) {
    super(model, context);
    this._loading = loading;
    this.inner = null;
  }

  render() {
    return h("div", { class: "ds-loading" }, `loading the view of ${this.model.type}…`);
  }

  connected() {
    this._loading.then(
      (ViewClass) => {
        if (this.removed) return;
        // No module for this type: it is shown as unknown, as without a server to ask.
        this.inner = new (ViewClass ?? UnknownView)(this.model, this.context).build();
        this.el.replaceWith(this.inner.el);
        this.el = this.inner.el;
      },
      (err) => {
        if (this.removed) return;
        this.el.textContent = `${this.model.type}: its view could not be loaded`;
        this.el.className = "ds-view ds-unknown";
        this.context.reportError(`the view of ${this.model.type} could not be loaded: ${err.message}`);
      },
    );
  }

  remove() {
    this.inner?.remove();
    super.remove();
  }
}

/** What the views of one embed share: its session, its factory, and event routing. */
export class ViewContext {
  /**
   * ``reportError(text)``: shows a problem in the page; ``maxUploadBytes`` and
   * ``uploadChunkBytes``: the server's upload limits (FileInput refuses larger uploads
   * unread); the rest as for ViewFactory.
   */
  constructor(
    session,
    { viewModules = {}, viewModulesUrl = null, reportError = () => {}, maxUploadBytes = null, uploadChunkBytes = null } = {},
  ) {
    this.session = session;
    this.maxUploadBytes = maxUploadBytes;
    this.uploadChunkBytes = uploadChunkBytes;
    this.document = session.document;
    this.reportError = reportError;
    this.factory = new ViewFactory(this, viewModules, { viewModulesUrl });
    this._listeners = new Map(); // model -> Set of callbacks
    this._stop = this.document.onChange((event) => this._route(event));
  }

  /** Call ``callback(event)`` for each document event about ``model``; return a function that stops it. */
  listen(model, callback) {
    if (!this._listeners.has(model)) this._listeners.set(model, new Set());
    const callbacks = this._listeners.get(model);
    callbacks.add(callback);
    return () => {
      callbacks.delete(callback);
      if (callbacks.size === 0 && this._listeners.get(model) === callbacks) this._listeners.delete(model);
    };
  }

  _route(event) {
    const callbacks = event.model ? this._listeners.get(event.model) : undefined;
    if (callbacks === undefined) return;
    for (const callback of [...callbacks]) {
      try {
        callback(event);
      } catch (err) {
        console.error("docsync: error in a view", err);
      }
    }
  }

  /** Stop routing events (the embed is gone). */
  close() {
    this._stop();
    this._listeners.clear();
  }
}
