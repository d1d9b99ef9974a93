/**
 * Embed a docsync app in a page: ``embed(config)`` replaces the element
 * ``config.target`` with the app's views, connects its session, and returns the
 * ClientSession (the app page keeps it as ``window.docsync``; any embed's element keeps
 * it as ``element.docsyncSession``).
 *
 * ``config`` is what the server writes into the app page or autoload.js: app,
 * sessionId, token, wsUrl, clientBase (where these modules are served), viewModulesUrl
 * (where to ask for the view module of a custom model; viewModules, {type name: module
 * URL}, may list some in advance), target (an element id, or an element), page (true
 * when the app owns the whole page: its title follows the document's), theme ("light",
 * "dark" or "auto"), and the upload limits maxUploadBytes and uploadChunkBytes.
 * Several embeds on one page are independent: each has its own session and views.
 */

import { MAX_DETAIL_CHARS } from "./client_protocol.js";
import { ClientSession } from "./client_session.js";
import { TitleChangedEvent } from "./events.js";
import { DocumentView } from "./views/document_view.js";
import { h } from "./views/dom.js";
import { ViewContext } from "./views/factory.js";
import { ConnectionBadge, NoticeArea } from "./views/status.js";

const NOTICE = "docsync.notice";

/**
 * Link docsync.css once per page (an app page links it already). Beside this module, as
 * the page's import map placed it: the versioned URL the app page links, not a second copy.
 */
function ensureStylesheet() {
  const href = new URL("docsync.css", import.meta.url).href;
  // docsync's pages mark theirs (its URL may be versioned where this module's is not).
  const linked = [...document.querySelectorAll('link[rel="stylesheet"]')].some(
    (link) => link.href === href || link.hasAttribute("data-docsync"),
  );
  if (!linked) document.head.append(h("link", { rel: "stylesheet", href, "data-docsync": "" }));
}

/**
 * Whether the host page around ``element`` offers a dark scheme: the CSS ``color-scheme``
 * there, or the page's ``<meta name="color-scheme">``, names ``dark``. A page that does
 * not is drawn light by the browser in its dark mode too (its canvas, its controls).
 */
function offersDark(element) {
  const scheme = getComputedStyle(element.parentElement ?? document.documentElement).colorScheme;
  const declared = scheme && scheme !== "normal" ? scheme : document.querySelector('meta[name="color-scheme"]')?.content;
  return /\bdark\b/.test(declared ?? "");
}

function targetOf(config) {
  const target = typeof config.target === "string" ? document.getElementById(config.target) : config.target;
  if (!target) throw new Error(`docsync: no element ${JSON.stringify(config.target)} to embed ${config.app} into`);
  return target;
}

/** Say which local changes were not kept, and why. */
export function lostText({ reason, changes, count, text }, afterFresh = false) {
  const what = changes.length ? `Your change to ${changes.join(", ")} was` : `${count} of your changes ${count === 1 ? "was" : "were"}`;
  if (reason === "refused") return `${what} refused: ${text || "the server did not accept it"}.`;
  if (reason === "reset") return `${what} lost: the server reset the document.`;
  if (reason === "resync") return `${what} lost: the document was reloaded from the server.`;
  // Over the server's limits: never sent (text: "not sent: <the limit it is over>"), and undone.
  if (reason === "too-large") return `${what} ${text || "not sent: too large for the server"}.`;
  if (afterFresh) return `${what} lost with the old session.`;
  return `${what} lost: it had been changed meanwhile, and the first change wins.`;
}

/**
 * Embed the app ``config`` describes; resolve with its ClientSession once connected (or
 * failed). ``options.views``: {type name: View class}, views to use instead of the
 * built-in or imported ones.
 */
export async function embed(config, { views = {} } = {}) {
  const target = targetOf(config);
  if (config.clientBase) ensureStylesheet();

  const badge = new ConnectionBadge();
  const notices = new NoticeArea();
  const content = h("div", { class: "ds-content" });
  const root = h(
    "div",
    { class: `${target.className} docsync-root`.trim(), "data-docsync-app": config.app ?? "" },
    h("div", { class: "ds-chrome" }, notices.el, badge.el),
    content,
  );
  if (target.id) root.id = target.id;
  // A link naming a session that is gone or another visitor's opened a new session and
  // said nothing: the page looked like the one shared, in its first state. Gone or not
  // theirs reads the same, so it tells nothing of other sessions.
  const asked = config.page && !config.shared ? new URLSearchParams(globalThis.location?.search ?? "").get("session_id") : null;
  if (asked && asked !== config.sessionId) {
    notices.show("The session this address names is gone or not yours to join: this is a new one.", "info");
  }
  // "light" or "dark" fixes the theme; anything else follows the browser (prefers-color-scheme),
  // on an app's own page, or in a host page that offers a dark scheme: else the embed stays
  // light, as the host page does (its light ink would otherwise land on the page's white).
  if (config.theme === "light" || config.theme === "dark") {
    root.dataset.theme = config.theme;
    if (config.page) document.body.dataset.theme = config.theme;
  } else if (!config.page && !offersDark(target)) {
    root.dataset.theme = "light";
  }
  target.replaceWith(root);

  const session = new ClientSession({ url: config.wsUrl, token: config.token, ...(config.connection ?? {}) });
  root.docsyncSession = session;
  let afterFresh = false; // changes lost now were made for a session the server no longer had
  session.onStateChange((detail) => {
    badge.show(detail);
    if (detail.state === "live") {
      afterFresh = Boolean(detail.fresh);
      if (detail.fresh) notices.show("The server no longer had this session: this is a fresh one.", "info");
    }
    if (detail.state === "failed") {
      notices.show(`Disconnected: ${detail.reason || "the server cannot be reached"}. Reload the page to start again.`, "error", { sticky: true });
    }
  });
  session.onError((error) => {
    // A refused change of ours is told by the "lost" notice below, with what it changed.
    // A traceback (DEBUG only) stays until dismissed: it is there to be read.
    const text = error.text || "the server reported an error";
    if (error.msgtype !== "PATCH-DOC") notices.show(text, "error", error.detail ? { sticky: true, detail: error.detail } : {});
  });
  session.onChangesLost((lost) => {
    notices.show(lostText(lost, afterFresh), "error", { sticky: true });
    if (session.connection.settled) afterFresh = false;
  });
  // {"text", "kind"}: the server's notices (an admin's message, a callback that failed).
  // "detail": a failed callback's traceback, while the site runs with DEBUG on.
  session.onMessage(NOTICE, (data) => {
    const detail = typeof data?.detail === "string" ? data.detail.slice(0, MAX_DETAIL_CHARS) : "";
    notices.show(String(data?.text ?? data ?? ""), data?.kind === "error" ? "error" : "info", detail ? { sticky: true, detail } : {});
  });

  const context = new ViewContext(session, {
    viewModules: config.viewModules ?? {},
    viewModulesUrl: config.viewModulesUrl ?? null,
    maxUploadBytes: config.maxUploadBytes ?? null,
    uploadChunkBytes: config.uploadChunkBytes ?? null,
    reportError: (text) => notices.show(text, "error", { sticky: true }),
  });
  for (const [type, ViewClass] of Object.entries(views)) context.factory.register(type, ViewClass);
  const documentView = new DocumentView(session.document, context);
  content.append(documentView.el);
  if (config.page) {
    session.onChange((event) => {
      if (event instanceof TitleChangedEvent && event.title) document.title = event.title;
    });
  }

  try {
    await session.connection.connect();
  } catch {
    // Failed for good: the badge and a notice say so; the session is still returned.
  }
  return session;
}
