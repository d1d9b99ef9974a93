/**
 * The view of NoteBoard (project/examples/board.py): a list of notes anyone in the room
 * can add to or remove from. It is the worked example of docs/extending.md.
 *
 * Adding a note splices it onto the end of ``notes``, removing one splices it out: only
 * that change travels, and two people adding at once both keep their notes.
 */

import { h, setText } from "../views/dom.js";
import { View } from "../views/view.js";

export default class NoteBoardView extends View {
  // What the model's type declares in Python, for properties the wire leaves out.
  static defaults = { title: "Notes", notes: [] };

  render() {
    this.heading = h("h3", { class: "ds-note-board-title" });
    this.list = h("ul", { class: "ds-note-list" });
    this.input = h("input", {
      type: "text",
      class: "ds-input",
      placeholder: "Write a note…",
      "aria-label": "New note",
      maxlength: 500,
    });
    const form = h(
      "form",
      { class: "ds-note-form" },
      this.input,
      h("button", { type: "submit", class: "ds-button ds-button-primary" }, "Add"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.add(this.input.value);
    });
    this.list.addEventListener("click", (event) => {
      const button = event.target.closest(".ds-note-remove");
      if (button) this.removeAt([...this.list.children].indexOf(button.closest("li")));
    });
    return h("section", { class: "ds-note-board" }, this.heading, this.list, form);
  }

  connected() {
    this.watch("title", () => this.showTitle());
    this.watch("notes", () => this.showNotes());
    this.showTitle();
    this.showNotes();
  }

  showTitle() {
    setText(this.heading, this.prop("title"));
  }

  /** Make the list match ``notes``: rewrite the items that differ, add or drop at the end. */
  showNotes() {
    const notes = this.prop("notes") ?? [];
    const items = this.list.children;
    while (items.length > notes.length) items[items.length - 1].remove();
    notes.forEach((note, i) => {
      let item = items[i];
      if (item === undefined) {
        item = h(
          "li",
          { class: "ds-note" },
          h("span", { class: "ds-note-text" }),
          h("button", { type: "button", class: "ds-note-remove", "aria-label": "Remove this note", title: "Remove" }, "×"),
        );
        this.list.append(item);
      }
      setText(item.firstChild, note);
    });
  }

  /** Append a note: one splice at the end of ``notes``. */
  add(text) {
    const note = text.trim();
    if (!note) return;
    const notes = this.prop("notes") ?? [];
    this.model.splice("notes", notes.length, 0, [note]);
    this.input.value = "";
    this.input.focus();
  }

  /** Remove the note at ``index``: one splice. */
  removeAt(index) {
    const notes = this.prop("notes") ?? [];
    if (index >= 0 && index < notes.length) this.model.splice("notes", index, 1, []);
  }
}
