/**
 * ClientSession: what a page's own script uses to talk to its docsync app: find models
 * by name, listen to changes, set properties, send messages. It owns a Document and
 * the Connection that keeps it in sync.
 *
 *     const session = await ClientSession.connect({ url, token });
 *     session.onPropertyChange("slider", "value", (attr, old, value) => ...);
 *     session.set("slider", "value", 3);
 *     session.sendMessage("refresh", { all: true });
 */

import { Connection } from "./connection.js";
import { Document } from "./document.js";
import { MessageSentEvent } from "./events.js";

/** A page's session of a docsync app: its document and the connection behind it. */
export class ClientSession {
  /** ``options``: url and token, and any Connection option (socketFactory, backoff, ...). */
  constructor(options) {
    this.document = new Document();
    this.connection = new Connection(this.document, options);
  }

  /** Open a session and resolve once its document is live. */
  static async connect(options) {
    const session = new ClientSession(options);
    await session.connection.connect();
    return session;
  }

  /** Resolves once the document has been pulled the first time. */
  get ready() {
    return this.connection.ready;
  }

  /** The connection state: connecting, live, reconnecting, failed or closed. */
  get state() {
    return this.connection.state;
  }

  /** Return the first model named ``name``, or null. */
  getModelByName(name) {
    return this.document.getModelByName(name);
  }

  /** Return the model with id ``id``, or null. */
  getModelById(id) {
    return this.document.getModelById(id);
  }

  _model(modelOrName) {
    if (typeof modelOrName !== "string") return modelOrName;
    const model = this.document.getModelByName(modelOrName);
    if (model === null) throw new RangeError(`no model named ${JSON.stringify(modelOrName)}`);
    return model;
  }

  /** Call ``callback(event)`` for every change of the document, local or not; return a function that stops it. */
  onChange(callback) {
    return this.document.onChange(callback);
  }

  /**
   * Call ``callback(attr, old, new)`` when property ``attr`` of a model (or of the model
   * named so) changes; return a function that stops it.
   */
  onPropertyChange(modelOrName, attr, callback) {
    return this._model(modelOrName).onChange(attr, callback);
  }

  /** Set property ``attr`` of a model (or of the model named so); the change goes to the server. */
  set(modelOrName, attr, value) {
    this._model(modelOrName).set(attr, value);
  }

  /** Send an application message (or, with ``model``, a UI event aimed at that model). */
  sendMessage(msgType, msgData = null, { model = null } = {}) {
    this.document.sendMessage(msgType, msgData, { model: model === null ? null : this._model(model) });
  }

  /** Call ``callback(msgData, event)`` for each message of ``msgType`` the server sends; return a function that stops it. */
  onMessage(msgType, callback) {
    return this.document.onChange((event) => {
      if (event instanceof MessageSentEvent && event.setter === this.connection && event.msgType === msgType) {
        callback(event.msgData, event);
      }
    });
  }

  /** Call ``callback(detail)`` when the connection state changes; return a function that stops it. */
  onStateChange(callback) {
    return this.connection.on("state", callback);
  }

  /** Call ``callback(detail)`` for each error the server reports; return a function that stops it. */
  onError(callback) {
    return this.connection.on("error", callback);
  }

  /**
   * Call ``callback({reason, changes, count, text})`` when local changes were not kept
   * (``changes`` names them, e.g. "phase.value"); return a function that stops it.
   */
  onChangesLost(callback) {
    return this.connection.on("lost", callback);
  }

  /** Close the connection for good. */
  close() {
    this.connection.close();
  }
}
