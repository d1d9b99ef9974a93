// Shared by the node tests: the wire fixtures and the canonical form of a document.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { Encoder } from "../../docsync/static/docsync/serialization.js";

export const STATIC = "../../docsync/static/docsync";
export const FIXTURES = fileURLToPath(new URL("../fixtures/wire/", import.meta.url));

/** Return every fixture file as [name, parsed JSON], sorted by name. */
export function loadFixtures() {
  return readdirSync(FIXTURES)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => [name.replace(/\.json$/, ""), JSON.parse(readFileSync(join(FIXTURES, name), "utf8"))]);
}

/** Return the bytes of base64 text as a fresh ArrayBuffer (as a socket hands frames over). */
export function bytesFromBase64(text) {
  return Uint8Array.from(Buffer.from(text, "base64")).buffer;
}

/** Return base64 text of binary data (ArrayBuffer or view). */
export function base64Of(data) {
  const view = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(view).toString("base64");
}

/** Turn fixture frames into socket frames: strings, and ArrayBuffers for {"binary_base64"}. */
export function framesOf(items) {
  return items.map((item) => (typeof item === "string" ? item : bytesFromBase64(item.binary_base64)));
}

/** Return a message as the fixtures write it: header, metadata, content, [id, base64] buffers. */
export function messageJSON(message) {
  return {
    header: message.header,
    metadata: message.metadata,
    content: message.content,
    buffers: message.buffers.map(([id, data]) => [id, base64Of(data)]),
  };
}

/** Return document JSON with its models sorted by id (their order carries no meaning). */
export function sortedModels(doc) {
  return { ...doc, models: [...doc.models].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
}

/** Return a document's JSON with arrays and bytes inline as base64, models sorted by id. */
export function canonical(document) {
  return sortedModels(document.toJSON({ encoder: new Encoder({ useBuffers: false }) }).doc);
}

/** Replace every {"buffer": id} in JSON by {"base64": ...} of that buffer. */
export function inlineBuffers(value, buffers) {
  if (Array.isArray(value)) return value.map((item) => inlineBuffers(item, buffers));
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === "buffer" && typeof item === "string" && (value.type === "ndarray" || value.type === "bytes")) {
      out.base64 = base64Of(buffers.get(item));
    } else {
      out[key] = inlineBuffers(item, buffers);
    }
  }
  return out;
}
