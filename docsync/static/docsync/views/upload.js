/**
 * FileInput: the browser's file chooser, uploading to Python in chunks of binary
 * buffers. Before reading a byte it checks what the server will check (how many files,
 * their types against ``accept``, their size against the limit): an upload too large is
 * refused here, unread. Then "upload_start" announces the files and each chunk
 * ("upload_chunk") waits for the server's OK before the next is read, so that neither
 * side holds more than a chunk in flight and the bar shows what the server has.
 */

import { ConnectionLostError } from "../exceptions.js";
import { h, setText } from "./dom.js";
import { controlId } from "./inputs.js";
import { WidgetView } from "./view.js";

// Below daphne's default 1 MiB message limit; the page's configuration may say less.
const CHUNK_BYTES = 512 * 1024;

/** Return "14 bytes", "3 kB" or "1.5 MB"-style text for a byte count. */
export function megabytes(bytes) {
  // Below a kilobyte the count itself: a 14-byte upload said "(1 kB)".
  if (bytes < 1000) return bytes === 1 ? "1 byte" : `${bytes} bytes`;
  return bytes < 1_000_000 ? `${Math.round(bytes / 1000)} kB` : `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** Tell whether a file (name, MIME type) matches an ``accept`` list as the HTML attribute means it. */
export function accepted(accept, name, type) {
  const tokens = (Array.isArray(accept) ? accept : String(accept ?? "").split(","))
    .map((token) => token.trim().toLowerCase())
    .filter(Boolean);
  if (tokens.length === 0) return true;
  const file = name.toLowerCase();
  const mime = (type ?? "").toLowerCase();
  return tokens.some((token) =>
    token.startsWith(".") ? file.endsWith(token) : token.endsWith("/*") ? mime.startsWith(token.slice(0, -1)) : mime === token,
  );
}

function uploadId() {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A file chooser that uploads what the user picks, with a progress bar and clear refusals. */
export class FileInputView extends WidgetView {
  static watched = ["title", "accept", "multiple", "filename"];

  render() {
    const id = controlId();
    this.input = h("input", { type: "file", id, class: "ds-file-input", onchange: () => this.chosen() });
    this.title = h("label", { class: "ds-title", for: id });
    this.bar = h("progress", { class: "ds-upload-progress", max: "1", value: "0", "aria-label": "Upload progress", hidden: true });
    this.status = h("div", { class: "ds-upload-status", role: "status", "aria-live": "polite" });
    this.uploading = false;
    return h("div", { class: "ds-widget ds-field ds-file-upload" }, this.title, this.input, this.bar, this.status);
  }

  controls() {
    return [this.input];
  }

  update() {
    const title = this.prop("title");
    setText(this.title, title);
    this.title.hidden = !title;
    if (title) this.input.removeAttribute("aria-label");
    else this.input.setAttribute("aria-label", this.model.get("name") || "file");
    const accept = this.prop("accept");
    this.input.accept = Array.isArray(accept) ? accept.join(",") : accept ?? "";
    this.input.multiple = Boolean(this.prop("multiple"));
  }

  /** The largest upload this input takes: the site's limit, or the model's ``max_size`` if lower. */
  get limit() {
    const limits = [this.context.maxUploadBytes, this.prop("max_size")].filter(Number.isFinite);
    return limits.length ? Math.min(...limits) : Infinity;
  }

  say(text, kind = "info") {
    setText(this.status, text);
    this.status.dataset.kind = kind;
  }

  /** Refuse the choice with ``text``, unread. */
  refuse(text) {
    this.input.value = "";
    this.say(text, "error");
  }

  chosen() {
    const files = [...(this.input.files ?? [])];
    if (files.length === 0 || this.uploading) return;
    if (files.length > 1 && !this.prop("multiple")) return this.refuse("Choose one file.");
    const accept = this.prop("accept");
    const wrong = files.find((file) => !accepted(accept, file.name, file.type));
    if (wrong) return this.refuse(`${wrong.name} is not a file this input accepts (${Array.isArray(accept) ? accept.join(", ") : accept}).`);
    const total = files.reduce((sum, file) => sum + file.size, 0);
    if (total > this.limit) {
      const what = files.length === 1 ? files[0].name : `These ${files.length} files`;
      return this.refuse(`${what} is too large: ${megabytes(total)}, at most ${megabytes(this.limit)}.`);
    }
    this.upload(files, total);
  }

  async upload(files, total) {
    this.uploading = true;
    this.input.disabled = true;
    const id = uploadId();
    const chunk = Math.max(1024, Math.min(CHUNK_BYTES, this.context.uploadChunkBytes ?? CHUNK_BYTES));
    let sent = 0;
    this.progress(0, total);
    try {
      await this.request("upload_start", { upload: id, files: files.map((f) => ({ name: f.name, type: f.type, size: f.size })) });
      for (const [index, file] of files.entries()) {
        for (let offset = 0; offset < file.size; offset += chunk) {
          if (this.removed) return;
          // One chunk in memory at a time: the file itself is never read whole.
          const data = await file.slice(offset, offset + chunk).arrayBuffer();
          await this.request("upload_chunk", { upload: id, file: index, offset, data });
          sent += data.byteLength;
          this.progress(sent, total);
        }
      }
      const names = files.map((file) => file.name).join(", ");
      this.say(`Uploaded ${names} (${megabytes(total)}).`, "done");
    } catch (err) {
      const reason = err instanceof ConnectionLostError ? "the connection dropped" : err?.message ?? String(err);
      this.say(`Upload refused: ${reason}`, "error");
      this.request("upload_cancel", { upload: id }).catch(() => {});
    } finally {
      this.uploading = false;
      this.input.disabled = Boolean(this.prop("disabled"));
      this.input.value = "";
      this.bar.hidden = true;
    }
  }

  progress(sent, total) {
    this.bar.hidden = false;
    this.bar.max = Math.max(total, 1);
    this.bar.value = sent;
    this.say(`Uploading… ${megabytes(sent)} of ${megabytes(total)}`);
  }
}
