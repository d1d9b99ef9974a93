/**
 * What an embed shows about itself: a small connection badge (connecting, live,
 * reconnecting, failed) and notices (errors the server reports, messages it sends).
 */

import { h, setText } from "./dom.js";

const LABELS = {
  idle: "starting",
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  failed: "disconnected",
  closed: "closed",
};

/** A dot and a word in the corner: green and wordless while live. */
export class ConnectionBadge {
  constructor() {
    this.text = h("span", { class: "ds-status-text" });
    this.el = h("div", { class: "ds-status", role: "status", "aria-live": "polite" }, h("span", { class: "ds-status-dot" }), this.text);
    this.show({ state: "connecting" });
  }

  /** Show a "state" event of the connection ({state, reason, attempt, delay}). */
  show({ state, reason = "", attempt = 0, delay = 0 }) {
    this.el.dataset.state = state;
    setText(this.text, LABELS[state] ?? state);
    let title = `docsync: ${LABELS[state] ?? state}`;
    if (state === "reconnecting") title += ` (attempt ${attempt}, in ${Math.round(delay / 100) / 10} s)`;
    if (reason) title += ` — ${reason}`;
    this.el.title = title;
  }
}

/** A stack of dismissable notices; repeats of a text still shown are counted, not stacked. */
export class NoticeArea {
  constructor({ limit = 4, errorLifetime = 12_000 } = {}) {
    this.limit = limit;
    this.errorLifetime = errorLifetime;
    this.el = h("div", { class: "ds-notices", "aria-live": "polite" });
  }

  /**
   * Show ``text``; ``kind`` is "error" or "info". Errors fade after a while unless ``sticky``.
   * ``detail`` (a server's traceback) is shown folded under the text.
   */
  show(text, kind = "info", { sticky = kind !== "error", detail = "" } = {}) {
    // Any notice still shown, not only the last: a failing app's page alternated its error
    // with the retry's refusal, and stacked the same error (and traceback) once per attempt.
    const same = [...this.el.children].find((notice) => notice.dataset.text === text && notice.dataset.kind === kind);
    if (same) {
      const count = Number(same.dataset.count) + 1;
      same.dataset.count = String(count);
      setText(same.querySelector(".ds-notice-count"), `×${count}`);
      this._schedule(same, sticky || same.classList.contains("ds-notice-has-detail"));
      return same;
    }
    const close = h("button", { type: "button", class: "ds-notice-close", "aria-label": "Dismiss" }, "×");
    const notice = h(
      "div",
      { class: `ds-notice ds-notice-${kind}`, role: kind === "error" ? "alert" : "status" },
      h("span", { class: "ds-notice-text" }, text),
      h("span", { class: "ds-notice-count" }),
      close,
    );
    if (detail) {
      notice.classList.add("ds-notice-has-detail");
      const trace = h("pre", {}, detail);
      const folded = h("details", { class: "ds-notice-detail" }, h("summary", {}, "Traceback (DEBUG is on)"), trace);
      // Opened at its end: the frames of the app's own code are the last ones.
      folded.addEventListener("toggle", () => {
        if (folded.open) trace.scrollTop = trace.scrollHeight;
      });
      notice.append(folded);
    }
    Object.assign(notice.dataset, { text, kind, count: "1" });
    close.addEventListener("click", () => notice.remove());
    this.el.append(notice);
    while (this.el.children.length > this.limit) this.el.firstElementChild.remove();
    this._schedule(notice, sticky);
    return notice;
  }

  _schedule(notice, sticky) {
    globalThis.clearTimeout(notice._timer);
    if (!sticky) notice._timer = globalThis.setTimeout(() => notice.remove(), this.errorLifetime);
  }
}
