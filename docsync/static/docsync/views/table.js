/**
 * DataTable: the rows of a ColumnDataSource, sortable by clicking a heading.
 *
 * The table keeps one <tr> per data row (``this.rows[i]`` shows row i of the source).
 * A stream appends rows and drops the rolled-over ones, a patch rewrites the cells it
 * names, a replaced column rewrites that column's cells where they differ: the table is
 * never rebuilt for a change of data, only for a change of its columns.
 */

import { rowCount, Slice } from "../columns.js";
import {
  ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent, DictItemsDeletedEvent, ModelChangedEvent,
} from "../events.js";
import { formatValue, h, setText } from "./dom.js";
import { View } from "./view.js";

/** Tell whether a column holds numbers; null when a list has no value to tell by (empty, or all null). */
function isNumeric(column) {
  if (column === undefined) return false;
  if (ArrayBuffer.isView(column)) return true;
  for (let i = 0; i < column.length; i++) {
    const value = column[i];
    if (value !== null && value !== undefined) return typeof value === "number" || typeof value === "bigint";
  }
  return null;
}

function compareValues(a, b) {
  const aMissing = a === null || a === undefined || (typeof a === "number" && Number.isNaN(a));
  const bMissing = b === null || b === undefined || (typeof b === "number" && Number.isNaN(b));
  if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint")) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Return the row indices a patch index (an int or a Slice) names in a column of ``length`` rows. */
function indicesOf(index, length) {
  if (!(index instanceof Slice)) return [index];
  const [start, stop, step] = index.indices(length);
  const out = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

/** A sortable table of a data source's rows. */
export class DataTableView extends View {
  render() {
    this.rows = [];
    this.sort = null; // {field, direction: 1 | -1}
    // Per field, whether it held numbers when it last had values: a filter that leaves
    // no rows must not move the numeric headings to the left.
    this.numericFields = new Map();
    this.headRow = h("tr");
    this.body = h("tbody");
    this.table = h("table", { class: "ds-table" }, h("thead", {}, this.headRow), this.body);
    this.empty = h("div", { class: "ds-table-empty" }, "No rows");
    this.scroller = h("div", { class: "ds-table-scroll" }, this.table, this.empty);
    this.body.addEventListener("click", (event) => this.clicked(event));
    return h("div", { class: "ds-widget ds-data-table" }, this.scroller);
  }

  connected() {
    this.watch(["columns", "source", "sortable"], () => this.rebuild());
    this.watch(["height", "width"], () => this.size());
    this.size();
    this.rebuild();
  }

  get source() {
    return this.prop("source");
  }

  get data() {
    return this.source ? this.prop("data", this.source) ?? {} : {};
  }

  /** Tell whether ``field`` is aligned as numbers (what it last held, while it holds nothing). */
  numeric(field) {
    const numeric = isNumeric(this.data[field]);
    if (numeric === null) return this.numericFields.get(field) ?? false;
    this.numericFields.set(field, numeric);
    return numeric;
  }

  size() {
    const height = this.prop("height");
    this.scroller.style.maxHeight = Number.isFinite(height) ? `${height}px` : "";
    const width = this.prop("width");
    this.el.style.width = Number.isFinite(width) ? `${width}px` : "";
  }

  /** Build the heading and every row: for a new source or new columns only. */
  rebuild() {
    this._stopSource?.forEach((stop) => stop());
    this._stopSource = [];
    const source = this.source;
    if (source) this._stopSource.push(this.context.listen(source, (event) => this.sourceChanged(event)));
    if (source) this._stopSource.push(source.onChange("selected", () => this.rebuild()));
    const selection = this.selection;
    if (selection) this._stopSource.push(selection.onChange("indices", () => this.select()));
    this.columns = (this.prop("columns") ?? []).filter((column) => column && column.type);
    for (const column of this.columns) {
      for (const attr of ["field", "title", "width", "sortable"]) {
        this._stopSource.push(column.onChange(attr, () => this.rebuild()));
      }
    }
    if (this.sort && !this.columns.some((column) => this.prop("field", column) === this.sort.field)) this.sort = null;
    this.headRow.replaceChildren(...this.columns.map((column) => this.heading(column)));
    this.rows = [];
    this.body.replaceChildren();
    this.reconcile();
  }

  heading(column) {
    const field = this.prop("field", column);
    const sortable = this.prop("sortable") && this.prop("sortable", column);
    const th = h("th", { scope: "col", "data-field": field }, h("span", {}, this.prop("title", column) || field));
    const width = this.prop("width", column);
    if (Number.isFinite(width)) th.style.width = `${width}px`;
    const numeric = this.numeric(field);
    if (numeric) th.classList.add("ds-num");
    if (sortable) {
      th.classList.add("ds-sortable");
      th.tabIndex = 0;
      // The mark goes on the side away from the aligned edge: headings line up with their cells.
      const mark = h("span", { class: "ds-sort-mark", "aria-hidden": "true" });
      if (numeric) th.prepend(mark);
      else th.append(mark);
      const toggle = () => this.sortBy(field);
      th.addEventListener("click", toggle);
      th.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          toggle();
        }
      });
    }
    this.markSort(th);
    return th;
  }

  markSort(th) {
    const field = th.dataset.field;
    const direction = this.sort?.field === field ? this.sort.direction : 0;
    th.setAttribute("aria-sort", direction === 1 ? "ascending" : direction === -1 ? "descending" : "none");
    const mark = th.querySelector(".ds-sort-mark");
    if (mark) setText(mark, direction === 1 ? "▲" : direction === -1 ? "▼" : "");
  }

  /** Sort by ``field``: ascending, then descending, then back to the source's order. */
  sortBy(field) {
    if (this.sort?.field !== field) this.sort = { field, direction: 1 };
    else if (this.sort.direction === 1) this.sort = { field, direction: -1 };
    else this.sort = null;
    for (const th of this.headRow.children) this.markSort(th);
    this.order();
  }

  // -- rows ----------------------------------------------------------------------------

  rowLength() {
    const columns = Object.values(this.data);
    return columns.length ? rowCount(columns[0]) : 0;
  }

  makeRow() {
    return h("tr", {}, this.columns.map((column) => {
      const td = h("td");
      if (this.numeric(this.prop("field", column))) td.classList.add("ds-num");
      return td;
    }));
  }

  fillCell(row, k, i) {
    const column = this.data[this.prop("field", this.columns[k])];
    setText(row.children[k], column === undefined ? "" : formatValue(column[i]));
  }

  fillRow(i, fields = null) {
    const row = this.rows[i];
    this.columns.forEach((column, k) => {
      if (fields === null || fields.has(this.prop("field", column))) this.fillCell(row, k, i);
    });
  }

  /** Make the rows match the data: add or drop rows at the end, rewrite cells that differ. */
  reconcile(fields = null) {
    const length = this.rowLength();
    while (this.rows.length > length) this.rows.pop().remove();
    const kept = this.rows.length;
    const added = [];
    while (this.rows.length < length) {
      const row = this.makeRow();
      this.rows.push(row);
      added.push(row);
    }
    for (let i = 0; i < length; i++) this.fillRow(i, i < kept ? fields : null);
    this.body.append(...added);
    this.afterRowsChanged(true);
  }

  stream(event) {
    const streamed = Object.values(event.data);
    const newRows = streamed.length ? rowCount(streamed[0]) : 0;
    const length = this.rowLength();
    const dropped = Math.max(0, this.rows.length + newRows - length);
    // Rolled-over rows leave from the top; the rows that stay keep their elements.
    for (const row of this.rows.splice(0, Math.min(dropped, this.rows.length))) row.remove();
    const start = this.rows.length;
    const fresh = [];
    for (let i = start; i < length; i++) {
      const row = this.makeRow();
      this.rows.push(row);
      fresh.push(row);
      this.fillRow(i);
    }
    this.body.append(...fresh);
    this.afterRowsChanged(this.sort !== null);
  }

  patch(event) {
    const length = this.rowLength();
    for (const [name, entries] of Object.entries(event.patches)) {
      const k = this.columns.findIndex((column) => this.prop("field", column) === name);
      if (k < 0) continue;
      for (const [index] of entries) {
        for (const i of indicesOf(index, length)) if (this.rows[i]) this.fillCell(this.rows[i], k, i);
      }
    }
    this.afterRowsChanged(this.sort !== null && Object.hasOwn(event.patches, this.sort.field));
  }

  sourceChanged(event) {
    if (event instanceof ColumnsStreamedEvent && event.attr === "data") this.stream(event);
    else if (event instanceof ColumnsPatchedEvent && event.attr === "data") this.patch(event);
    else if (event instanceof ColumnDataChangedEvent && event.attr === "data") {
      this.reconcile(new Set(Object.keys(event.columns)));
    } else if ((event instanceof ModelChangedEvent || event instanceof DictItemsDeletedEvent) && event.attr === "data") {
      this.rebuildIfShapeChanged();
    }
  }

  /** The source's Selection model (its ``indices`` are the selected rows), or null. */
  get selection() {
    const selection = this.source ? this.prop("selected", this.source) : null;
    return selection && typeof selection.get === "function" ? selection : null;
  }

  selectedIndices() {
    return this.selection ? this.prop("indices", this.selection) ?? [] : [];
  }

  rebuildIfShapeChanged() {
    // Numeric columns are aligned right: a replaced column may change that.
    const numeric = this.columns.map((column) => this.numeric(this.prop("field", column)));
    const shown = [...this.headRow.children].map((th) => th.classList.contains("ds-num"));
    if (numeric.some((value, k) => value !== shown[k])) this.rebuild();
    else this.reconcile();
  }

  afterRowsChanged(reorder) {
    this.empty.hidden = this.rows.length > 0;
    if (reorder) this.order();
    this.select();
  }

  /** Put the rows in sorted order by moving their elements (none is rebuilt). */
  order() {
    let order = this.rows.map((_, i) => i);
    if (this.sort !== null) {
      const column = this.data[this.sort.field] ?? [];
      const { direction } = this.sort;
      order = order.sort((a, b) => direction * compareValues(column[a], column[b]) || a - b);
    }
    let previous = null;
    for (const i of order) {
      const row = this.rows[i];
      const expected = previous === null ? this.body.firstChild : previous.nextSibling;
      if (expected !== row) this.body.insertBefore(row, expected);
      previous = row;
    }
  }

  select() {
    const selected = new Set(this.selectedIndices());
    if (selected.size === 0 && !this._anySelected) return;
    this.rows.forEach((row, i) => row.classList.toggle("ds-selected", selected.has(i)));
    this._anySelected = selected.size > 0;
  }

  clicked(event) {
    const row = event.target.closest("tr");
    const index = row ? this.rows.indexOf(row) : -1;
    if (index < 0 || !this.selection) return;
    const selected = this.selectedIndices();
    let next;
    if (event.ctrlKey || event.metaKey) {
      next = selected.includes(index) ? selected.filter((i) => i !== index) : [...selected, index].sort((a, b) => a - b);
    } else {
      next = selected.length === 1 && selected[0] === index ? [] : [index];
    }
    this.selection.set("indices", next);
  }

  remove() {
    this._stopSource?.forEach((stop) => stop());
    super.remove();
  }
}
