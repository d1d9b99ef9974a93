/**
 * Editing a DataTable's cells in place, with the column's editor: StringEditor (text),
 * IntEditor and NumberEditor (numbers), SelectEditor (a choice), CheckboxEditor (a
 * bool) and DateEditor (a date). Enter or leaving the cell commits, Escape cancels. A
 * commit is one ``patch`` of the source: {field: [[row, value]]}, typed as the editor
 * says (an int, a float, a bool, an IsoDate), which the server checks like any patch.
 */

import { IsoDate, isIsoDate } from "../serialization.js";
import { h } from "./dom.js";

/** Return the editor's input for ``value``, and a function reading it back (or throwing why not). */
function makeEditor(editor, value) {
  const type = editor?.type ?? "StringEditor";
  if (type === "CheckboxEditor") {
    const input = h("input", { type: "checkbox" });
    input.checked = Boolean(value);
    return { input, read: () => input.checked };
  }
  if (type === "SelectEditor") {
    const options = (editor.get("options") ?? []).map(String);
    const input = h("select", {}, options.map((option) => h("option", { value: option }, option)));
    input.value = String(value ?? "");
    return { input, read: () => input.value };
  }
  if (type === "DateEditor") {
    const input = h("input", { type: "date" });
    input.value = value && typeof value.iso === "string" ? value.iso.slice(0, 10) : "";
    return {
      input,
      read: () => {
        if (!isIsoDate(input.value)) throw new RangeError("a date is needed");
        return new IsoDate(input.value);
      },
    };
  }
  if (type === "IntEditor" || type === "NumberEditor") {
    const integer = type === "IntEditor";
    const step = Number(editor.get("step")) || (integer ? 1 : 0.01);
    const input = h("input", { type: "number", step: String(step) });
    input.value = value === null || value === undefined ? "" : String(value);
    return {
      input,
      read: () => {
        const number = Number(input.value);
        if (input.value.trim() === "" || !Number.isFinite(number)) throw new RangeError("a number is needed");
        if (integer && !Number.isInteger(number)) throw new RangeError("a whole number is needed");
        return number;
      },
    };
  }
  const input = h("input", { type: "text" });
  input.value = value === null || value === undefined ? "" : String(value);
  return { input, read: () => input.value };
}

/** The one cell of a table being edited, if any. */
export class CellEditing {
  constructor(table) {
    this.table = table;
    this.active = null; // {td, row, field, input, read}
  }

  isEditing(td) {
    return this.active !== null && this.active.td === td;
  }

  /** Start editing cell ``td`` if the table and its column allow it. */
  startAt(td) {
    const table = this.table;
    if (!td || !table.prop("editable") || table.el.classList.contains("ds-disabled")) return;
    const k = [...td.parentElement.children].indexOf(td);
    const cell = table.cells[k];
    if (!cell || cell.field === undefined || !Object.hasOwn(table.data, cell.field)) return;
    this.commit();
    const row = Number(td.parentElement.dataset.row);
    const { input, read } = makeEditor(table.prop("editor", cell.column), table.valueAt(cell.field, row));
    input.classList.add("ds-cell-editor");
    input.setAttribute("aria-label", `${table.prop("title", cell.column) || cell.field}, row ${row + 1}`);
    input.addEventListener("keydown", (event) => {
      event.stopPropagation();
      if (event.key === "Enter") {
        event.preventDefault();
        this.commit(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        this.cancel(true);
      }
    });
    input.addEventListener("blur", () => this.commit());
    if (input.type === "checkbox") input.addEventListener("change", () => this.commit(true));
    this.active = { td, row, field: cell.field, input, read };
    td.classList.add("ds-editing");
    td.replaceChildren(input);
    input.focus();
    input.select?.();
  }

  /** Send the edited value as a patch of its cell (unless it is unchanged or invalid). */
  commit(refocus = false) {
    const active = this.active;
    if (active === null) return;
    let value;
    try {
      value = active.read();
    } catch (err) {
      active.input.setAttribute("aria-invalid", "true");
      active.input.title = err.message;
      if (refocus) return; // Enter on a bad value: keep editing
      return this.cancel(false);
    }
    this.active = null;
    const table = this.table;
    const old = table.valueAt(active.field, active.row);
    this.restore(active, refocus);
    const same = old === value || (old && value && typeof old.iso === "string" && old.iso === value.iso);
    if (!same && table.source) table.source.patch("data", { [active.field]: [[active.row, value]] });
  }

  /** Stop editing without sending anything. */
  cancel(refocus = false) {
    const active = this.active;
    if (active === null) return;
    this.active = null;
    this.restore(active, refocus);
  }

  restore(active, refocus) {
    const { td } = active;
    td.classList.remove("ds-editing");
    const tr = td.parentElement;
    if (tr) this.table.fillCell(tr, [...tr.children].indexOf(td), active.row);
    if (refocus) td.focus();
  }
}
