/**
 * DataTable: the rows of a ColumnDataSource, sortable, selectable, editable and paged.
 *
 * ``this.rows[i]`` is the <tr> of data row i while it is shown (undefined otherwise: a
 * page of a large source builds only its own rows). A stream appends rows and drops the
 * rolled-over ones, a patch rewrites the cells it names, a replaced column rewrites that
 * column's cells where they differ: rows are never rebuilt for a change of data, only
 * for a change of the columns. The table is a grid (WAI-ARIA): one cell is in the tab
 * order; arrows move, Space selects the row, Enter or F2 edits the cell.
 */

import { rowCount, Slice } from "../columns.js";
import {
  ColumnDataChangedEvent, ColumnsPatchedEvent, ColumnsStreamedEvent, DictItemsDeletedEvent, ModelChangedEvent,
} from "../events.js";
import { h, setText } from "./dom.js";
import { formatCell } from "./formatters.js";
import { applySizing, SIZING_ATTRS } from "./sizing.js";
import { CellEditing } from "./table_edit.js";
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
  const text = (x) => (x && typeof x.iso === "string" ? x.iso : String(x));
  return text(a).localeCompare(text(b), undefined, { numeric: true });
}

/** Return the row indices a patch index (an int or a Slice) names in a column of ``length`` rows. */
function indicesOf(index, length) {
  if (!(index instanceof Slice)) return [index];
  const [start, stop, step] = index.indices(length);
  const out = [];
  for (let i = start; i < stop; i += step) out.push(i);
  return out;
}

/** A table of a data source's rows. */
export class DataTableView extends View {
  render() {
    this.rows = [];
    this.sort = null; // {field, direction: 1 | -1}
    this.page = 0;
    // Per field, whether it held numbers when it last had values: a filter that leaves
    // no rows must not move the numeric headings to the left.
    this.numericFields = new Map();
    this.templates = new Map(); // HTMLTemplateFormatter -> parsed template
    this.focus = { row: 0, col: 0 }; // the grid cell in the tab order (row: position shown)
    this.headRow = h("tr");
    this.body = h("tbody");
    this.table = h("table", { class: "ds-table", role: "grid" }, h("thead", {}, this.headRow), this.body);
    this.empty = h("div", { class: "ds-table-empty" }, "No rows");
    this.scroller = h("div", { class: "ds-table-scroll" }, this.table, this.empty);
    this.pager = h("nav", { class: "ds-pager", "aria-label": "Pages", hidden: true });
    this.body.addEventListener("click", (event) => this.clicked(event));
    this.body.addEventListener("dblclick", (event) => this.editing.startAt(event.target.closest("td")));
    this.body.addEventListener("keydown", (event) => this.key(event));
    this.body.addEventListener("change", (event) => this.checkboxChanged(event));
    this.editing = new CellEditing(this);
    return h("div", { class: "ds-widget ds-data-table" }, this.scroller, this.pager);
  }

  connected() {
    this.watch(["columns", "source", "sortable", "selectable", "editable", "index_position"], () => this.rebuild());
    this.watch(["page_size"], () => this.show());
    this.watch(["height", "visible", ...SIZING_ATTRS], () => this.size());
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

  /** The source's Selection model (its ``indices`` are the selected rows), or null. */
  get selection() {
    const selection = this.source ? this.prop("selected", this.source) : null;
    return selection && typeof selection.get === "function" ? selection : null;
  }

  selectedIndices() {
    return this.selection ? this.prop("indices", this.selection) ?? [] : [];
  }

  get selectable() {
    return this.prop("selectable") !== false && this.selection !== null;
  }

  size() {
    this.el.hidden = !this.prop("visible");
    applySizing(this);
    // The height bounds the scrolled rows (the pager stays below them).
    const height = this.prop("height");
    this.el.style.height = "";
    this.scroller.style.maxHeight = Number.isFinite(height) ? `${height}px` : "";
  }

  /** Build the heading and the shown rows: for a new source or new columns only. */
  rebuild() {
    this._stopSource?.forEach((stop) => stop());
    this._stopSource = [];
    this.editing.cancel();
    const source = this.source;
    if (source) this._stopSource.push(this.context.listen(source, (event) => this.sourceChanged(event)));
    if (source) this._stopSource.push(source.onChange("selected", () => this.rebuild()));
    const selection = this.selection;
    if (selection) this._stopSource.push(selection.onChange("indices", () => this.select()));
    this.columns = (this.prop("columns") ?? []).filter((column) => column && column.type);
    for (const column of this.columns) {
      for (const attr of ["field", "title", "width", "sortable", "formatter", "editor"]) {
        this._stopSource.push(column.onChange(attr, () => this.rebuild()));
      }
    }
    // The cells of a row: an optional checkbox, an optional row number, then the columns.
    this.checkbox = this.prop("selectable") === "checkbox" && selection !== null;
    const index = this.prop("index_position");
    this.cells = this.columns.map((column) => ({ column, field: this.prop("field", column) }));
    if (Number.isInteger(index)) {
      const at = index < 0 ? Math.max(0, this.cells.length + 1 + index) : Math.min(index, this.cells.length);
      this.cells.splice(at, 0, { index: true });
    }
    if (this.checkbox) this.cells.unshift({ checkbox: true });
    if (this.sort && !this.columns.some((column) => this.prop("field", column) === this.sort.field)) this.sort = null;
    this.headRow.replaceChildren(...this.cells.map((cell) => this.heading(cell)));
    this.table.setAttribute("aria-readonly", String(!this.prop("editable")));
    this.table.setAttribute("aria-multiselectable", String(this.selectable));
    for (const row of this.rows) row?.remove();
    this.rows = [];
    this._order = null;
    this.show();
  }

  heading(cell) {
    if (cell.checkbox) return h("th", { scope: "col", class: "ds-check-cell" }, h("span", { class: "ds-visually-hidden" }, "Selected"));
    if (cell.index) return h("th", { scope: "col", class: "ds-num ds-index-cell" }, "#");
    const { column, field } = cell;
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
    if (field === undefined) return;
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
    this.page = 0; // a new order starts at its first page
    this._order = null;
    this.show();
  }

  // -- rows ----------------------------------------------------------------------------

  rowLength() {
    const columns = Object.values(this.data);
    return columns.length ? rowCount(columns[0]) : 0;
  }

  /** Row i's value in column ``field``. */
  valueAt(field, i) {
    return this.data[field]?.[i];
  }

  makeRow(i) {
    const tr = h("tr", {}, this.cells.map((cell) => {
      const td = h("td", { tabindex: "-1" });
      if (cell.index || (cell.field !== undefined && this.numeric(cell.field))) td.classList.add("ds-num");
      if (cell.checkbox) {
        td.classList.add("ds-check-cell");
        td.append(h("input", { type: "checkbox", class: "ds-row-check", tabindex: "-1" }));
      }
      return td;
    }));
    this.fillRow(tr, i);
    return tr;
  }

  fillCell(tr, k, i) {
    const cell = this.cells[k];
    const td = tr.children[k];
    if (cell.checkbox) {
      td.firstChild.setAttribute("aria-label", `Select row ${i + 1}`);
      return;
    }
    if (cell.index) return setText(td, String(i + 1));
    if (this.editing.isEditing(td)) return;
    const shown = formatCell(this.prop("formatter", cell.column), this.valueAt(cell.field, i), (name) => this.valueAt(name, i), this.templates);
    if (typeof shown === "string") setText(td, shown);
    else td.replaceChildren(shown);
  }

  fillRow(tr, i, fields = null) {
    tr.dataset.row = String(i);
    this.cells.forEach((cell, k) => {
      if (fields === null || cell.index || cell.checkbox || fields.has(cell.field)) this.fillCell(tr, k, i);
    });
  }

  /** The data rows in the order shown (sorted or not), all pages; kept until the data or the sort changes. */
  ordered() {
    if (this._order && this._order.length === this.rowLength()) return this._order;
    const order = Array.from({ length: this.rowLength() }, (_, i) => i);
    if (this.sort !== null) {
      const column = this.data[this.sort.field] ?? [];
      const { direction } = this.sort;
      order.sort((a, b) => direction * compareValues(column[a], column[b]) || a - b);
    }
    this._order = order;
    return order;
  }

  get pageSize() {
    const size = this.prop("page_size");
    return Number.isInteger(size) && size > 0 ? size : null;
  }

  /** Show the rows of the current page in order: build the missing ones, drop the others. */
  show() {
    const order = this.ordered();
    const size = this.pageSize;
    const pages = size ? Math.max(1, Math.ceil(order.length / size)) : 1;
    this.page = Math.min(Math.max(0, this.page), pages - 1);
    this.shown = size ? order.slice(this.page * size, (this.page + 1) * size) : order;
    const visible = new Set(this.shown);
    this.rows.forEach((tr, i) => {
      if (tr !== undefined && !visible.has(i)) {
        tr.remove();
        this.rows[i] = undefined;
      }
    });
    this.rows.length = order.length;
    let previous = null;
    for (const i of this.shown) {
      const tr = (this.rows[i] ??= this.makeRow(i));
      const expected = previous === null ? this.body.firstChild : previous.nextSibling;
      if (expected !== tr) this.body.insertBefore(tr, expected);
      previous = tr;
    }
    this.empty.hidden = order.length > 0;
    this.showPager(order.length, pages);
    this.select();
    this.moveFocus(this.focus.row, this.focus.col, false);
  }

  showPager(count, pages) {
    const size = this.pageSize;
    this.pager.hidden = size === null;
    if (size === null) return;
    const first = count ? this.page * size + 1 : 0;
    const last = Math.min(count, (this.page + 1) * size);
    const button = (text, label, page, disabled) =>
      h("button", { type: "button", class: "ds-button ds-pager-button", "aria-label": label, disabled, onclick: () => this.goTo(page) }, text);
    this.pager.replaceChildren(
      button("‹", "Previous page", this.page - 1, this.page === 0),
      h("span", { class: "ds-pager-text", "aria-live": "polite" }, `${first}–${last} of ${count.toLocaleString("en-US")}`),
      button("›", "Next page", this.page + 1, this.page >= pages - 1),
    );
  }

  goTo(page) {
    this.editing.commit();
    this.page = page;
    this.show();
  }

  /** Rewrite the cells of the named fields in the rows shown (all of them when ``fields`` is null). */
  refresh(fields = null) {
    for (const i of this.shown ?? []) if (this.rows[i]) this.fillRow(this.rows[i], i, fields);
  }

  stream(event) {
    const streamed = Object.values(event.data);
    const newRows = streamed.length ? rowCount(streamed[0]) : 0;
    const length = this.rowLength();
    const dropped = Math.max(0, this.rows.length + newRows - length);
    // Rolled-over rows leave from the top; the rows that stay keep their elements.
    for (const tr of this.rows.splice(0, Math.min(dropped, this.rows.length))) tr?.remove();
    this.rows.forEach((tr, i) => tr && this.fillRow(tr, i, new Set()));
    this.show();
  }

  patch(event) {
    const length = this.rowLength();
    for (const [name, entries] of Object.entries(event.patches)) {
      const k = this.cells.findIndex((cell) => cell.field === name);
      if (k < 0) continue;
      for (const [index] of entries) {
        for (const i of indicesOf(index, length)) if (this.rows[i]) this.fillCell(this.rows[i], k, i);
      }
    }
    if (this.sort !== null && Object.hasOwn(event.patches, this.sort.field)) this.show();
  }

  sourceChanged(event) {
    this._order = null;
    if (event instanceof ColumnsStreamedEvent && event.attr === "data") this.stream(event);
    else if (event instanceof ColumnsPatchedEvent && event.attr === "data") this.patch(event);
    else if (event instanceof ColumnDataChangedEvent && event.attr === "data") {
      this.refresh(new Set(Object.keys(event.columns)));
      this.show();
    } else if ((event instanceof ModelChangedEvent || event instanceof DictItemsDeletedEvent) && event.attr === "data") {
      this.rebuildIfShapeChanged();
    }
  }

  rebuildIfShapeChanged() {
    // Numeric columns are aligned right: a replaced column may change that.
    const numeric = this.cells.map((cell) => cell.field !== undefined && this.numeric(cell.field));
    const shown = [...this.headRow.children].map((th, k) => this.cells[k].field !== undefined && th.classList.contains("ds-num"));
    if (numeric.some((value, k) => value !== shown[k])) this.rebuild();
    else {
      this.refresh();
      this.show();
    }
  }

  // -- selection -----------------------------------------------------------------------

  select() {
    const selected = new Set(this.selectedIndices());
    for (const i of this.shown ?? []) {
      const tr = this.rows[i];
      if (!tr) continue;
      const on = selected.has(i);
      tr.classList.toggle("ds-selected", on);
      if (this.selectable) tr.setAttribute("aria-selected", String(on));
      if (this.checkbox) tr.querySelector(".ds-row-check").checked = on;
    }
  }

  /** Select row ``index`` (with ``toggle``: add or remove it, keeping the others). */
  selectRow(index, toggle) {
    if (!this.selectable) return;
    const selected = this.selectedIndices();
    let next;
    if (toggle) {
      next = selected.includes(index) ? selected.filter((i) => i !== index) : [...selected, index].sort((a, b) => a - b);
    } else {
      next = selected.length === 1 && selected[0] === index ? [] : [index];
    }
    this.selection.set("indices", next);
  }

  clicked(event) {
    const td = event.target.closest("td");
    const tr = td?.parentElement;
    if (!tr || this.editing.isEditing(td)) return;
    const index = Number(tr.dataset.row);
    this.moveFocus(this.shown.indexOf(index), [...tr.children].indexOf(td), true);
    // With a checkbox per row, only the checkbox (or Space) selects: a click may be the start of an edit.
    if (this.checkbox) return;
    this.selectRow(index, event.ctrlKey || event.metaKey);
  }

  checkboxChanged(event) {
    if (!event.target.classList.contains("ds-row-check")) return;
    this.selectRow(Number(event.target.closest("tr").dataset.row), true);
  }

  // -- keyboard ------------------------------------------------------------------------

  /** Put the grid's one tabbable cell at (position ``row`` of the shown rows, cell ``col``). */
  moveFocus(row, col, focus) {
    const count = this.shown?.length ?? 0;
    if (count === 0 || this.cells.length === 0) return;
    row = Math.min(Math.max(0, row), count - 1);
    col = Math.min(Math.max(0, col), this.cells.length - 1);
    const old = this.body.querySelector('td[tabindex="0"]');
    const td = this.rows[this.shown[row]]?.children[col];
    if (!td) return;
    if (old && old !== td) old.tabIndex = -1;
    td.tabIndex = 0;
    this.focus = { row, col };
    if (focus) td.focus();
  }

  key(event) {
    if (this.editing.active) return; // the editor has the keys
    const td = event.target.closest("td");
    if (!td) return;
    const { row, col } = this.focus;
    const size = this.pageSize;
    const moves = {
      ArrowDown: [row + 1, col], ArrowUp: [row - 1, col], ArrowRight: [row, col + 1], ArrowLeft: [row, col - 1],
      Home: [row, 0], End: [row, this.cells.length - 1],
    };
    if (event.key in moves) {
      event.preventDefault();
      this.moveFocus(...moves[event.key], true);
    } else if ((event.key === "PageDown" || event.key === "PageUp") && size !== null) {
      event.preventDefault();
      this.goTo(this.page + (event.key === "PageDown" ? 1 : -1));
      this.moveFocus(0, col, true);
    } else if (event.key === " ") {
      event.preventDefault();
      this.selectRow(Number(td.parentElement.dataset.row), true);
    } else if (event.key === "Enter" || event.key === "F2") {
      event.preventDefault();
      this.editing.startAt(td);
    }
  }

  remove() {
    this._stopSource?.forEach((stop) => stop());
    this.editing.cancel();
    super.remove();
  }
}
