// connection.js against a fake socket: handshake, patches both ways, coalescing while a
// patch is in flight, errors, reconnection with backoff.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MAX_DETAIL_CHARS } from "../../docsync/static/docsync/client_protocol.js";
import { Connection, ConnectionState } from "../../docsync/static/docsync/connection.js";
import { Document } from "../../docsync/static/docsync/document.js";
import { ConnectionLostError, ServerError } from "../../docsync/static/docsync/exceptions.js";
import { SERVER_INFO_REPLY, SERVER_INFO_REQ, newMessage } from "../../docsync/static/docsync/protocol.js";
import { FakeSocket, FakeTimers, fakeLog, serverDocument, settle } from "./fake_socket.mjs";

function setup(options = {}) {
  const sockets = [];
  const timers = new FakeTimers();
  const log = fakeLog();
  const document = new Document();
  const states = [];
  const errors = [];
  const connection = new Connection(document, {
    url: "ws://test/app/ws",
    token: "signed-token",
    clientId: "client-1",
    socketFactory: (url, protocols) => {
      sockets.push(new FakeSocket(url, protocols));
      return sockets.at(-1);
    },
    timers,
    log,
    random: () => 0.5, // no jitter: delays are exact
    ...options,
  });
  connection.on("state", (detail) => states.push(detail));
  connection.on("error", (detail) => errors.push(detail));
  return { sockets, timers, log, document, connection, states, errors, socket: () => sockets.at(-1) };
}

async function live(options) {
  const t = setup(options);
  t.connection.connect();
  t.socket().ack();
  t.socket().replyPull(serverDocument(), 5);
  await t.connection.ready;
  return t;
}

const patches = (socket) => socket.messages().filter((m) => m.msgtype === "PATCH-DOC");
const setValue = (id, value) => [{ kind: "ModelChanged", model: { id }, attr: "value", new: value }];

describe("handshake", () => {
  it("opens with the token as second subprotocol, waits for ACK, pulls, goes live", async () => {
    const t = setup();
    const ready = t.connection.connect();
    const socket = t.socket();
    assert.equal(socket.url, "ws://test/app/ws");
    assert.deepEqual(socket.protocols, ["docsync", "signed-token"]);
    assert.equal(socket.binaryType, "arraybuffer");
    assert.equal(t.connection.state, ConnectionState.CONNECTING);
    assert.deepEqual(socket.frames, [], "nothing is sent before the ACK");
    socket.ack();
    const pull = socket.last();
    assert.equal(pull.msgtype, "PULL-DOC-REQ");
    assert.deepEqual(pull.content, { client_id: "client-1" });
    socket.replyPull(serverDocument(), 5);
    await ready;
    assert.equal(t.connection.state, ConnectionState.LIVE);
    assert.equal(t.connection.lastSeq, 5);
    assert.equal(t.document.title, "Server");
    assert.equal(t.document.getModelByName("slider").get("value"), 0);
    assert.deepEqual(t.states.map((s) => s.state), ["connecting", "live"]);
    await settle();
    assert.equal(socket.messages().length, 1, "the pulled document is not echoed back");
  });

  it("skips server patches that arrive before the pull reply (it holds them), and those it holds after it", async () => {
    const t = setup();
    t.connection.connect();
    const socket = t.socket();
    socket.ack();
    socket.patch(setValue("slider", 3), 5); // already in the pulled document
    const pulled = serverDocument();
    pulled.getModelById("slider").set("value", 3);
    socket.replyPull(pulled, 5);
    await t.connection.ready;
    socket.patch(setValue("slider", 9), 5); // a duplicate
    assert.equal(t.document.getModelByName("slider").get("value"), 3);
    socket.patch(setValue("slider", 4), 6);
    assert.equal(t.document.getModelByName("slider").get("value"), 4);
    assert.equal(t.connection.lastSeq, 6);
  });

  it("gives up waiting for an ACK and tries again", async () => {
    const t = setup({ ackTimeout: 1000 });
    t.connection.connect();
    t.timers.advance(1000);
    assert.deepEqual(t.sockets[0].closed, { code: 4000, reason: "no ACK from the server" });
    assert.equal(t.connection.state, ConnectionState.RECONNECTING);
    t.timers.advance(500);
    assert.equal(t.sockets.length, 2);
  });
});

describe("patches from the server", () => {
  it("are applied with the connection as setter, and not sent back", async () => {
    const t = await live();
    const seen = [];
    t.document.onChange((event) => seen.push([event.kind, event.setter === t.connection]));
    t.socket().patch([{ kind: "TitleChanged", title: "New" }, ...setValue("slider", 2)], 6);
    await settle();
    assert.equal(t.document.title, "New");
    assert.deepEqual(seen, [["TitleChanged", true], ["ModelChanged", true]]);
    assert.equal(patches(t.socket()).length, 0);
    assert.equal(t.connection.lastSeq, 6);
  });

  it("bring arrays in binary frames as typed arrays", async () => {
    const t = await live();
    const x = new Float64Array([5, 6, 7]);
    t.socket().patch(
      [{ kind: "ColumnDataChanged", model: { id: "source" }, attr: "data", columns: { x: { type: "ndarray", buffer: "0", dtype: "float64", shape: [3], order: "little" } } }],
      6,
      { buffers: [["0", x]] },
    );
    assert.deepEqual([...t.document.getModelByName("source").get("data").x], [5, 6, 7]);
  });

  it("skip events on models the document no longer holds (removed by a change that won)", async () => {
    const t = await live();
    t.socket().patch([...setValue("nope", 1), ...setValue("slider", 2)], 6);
    assert.equal(t.document.getModelByName("slider").get("value"), 2);
    assert.deepEqual(t.errors, []);
    assert.equal(t.connection.lastSeq, 6);
  });

  it("that cannot be read are reported, and the document is pulled again", async () => {
    const t = await live();
    t.socket().patch([{ kind: "Bogus", model: { id: "slider" }, attr: "value" }], 6);
    assert.equal(t.errors.at(-1).code, "bad-patch");
    assert.match(t.log.errors.at(-1), /unknown event kind 'Bogus'/);
    assert.equal(t.socket().last().msgtype, "PULL-DOC-REQ");
    t.socket().replyPull(serverDocument(), 7);
    assert.equal(t.connection.lastSeq, 7);
    assert.equal(t.connection.state, ConnectionState.LIVE);
  });

  it("may replace the whole document (PUSH-DOC), dropping what waited", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    slider.set("value", 1);
    await settle();
    slider.set("value", 2); // waits behind the patch in flight
    const reset = serverDocument();
    reset.title = "Reset";
    t.socket().push(reset, 9);
    assert.equal(t.document.title, "Reset");
    assert.equal(slider.get("value"), 0);
    assert.equal(t.connection.lastSeq, 9);
    t.socket().ok(patches(t.socket())[0], 9);
    await settle();
    assert.equal(patches(t.socket()).length, 1, "the waiting change lost to the reset");
  });
});

describe("local changes", () => {
  it("go out as a PATCH-DOC naming the last server position", async () => {
    const t = await live();
    t.document.getModelByName("slider").set("value", 1);
    await settle();
    const [patch] = patches(t.socket());
    assert.deepEqual(patch.content, {
      events: [{ kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 1 }],
      references: [],
      base: 5,
    });
  });

  it("made in one task go out in one patch", async () => {
    const t = await live();
    t.document.getModelByName("slider").set("value", 1);
    t.document.getModelByName("text").set("value", "a");
    await settle();
    assert.equal(patches(t.socket()).length, 1);
    assert.equal(patches(t.socket())[0].content.events.length, 2);
  });

  it("wait while a patch is in flight, repeated values of a property merged into the last", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    slider.set("value", 1);
    await settle();
    for (let value = 2; value <= 300; value++) {
      slider.set("value", value);
      await settle();
    }
    t.document.getModelByName("text").set("value", "typed");
    await settle();
    assert.equal(patches(t.socket()).length, 1, "nothing more is sent before the OK");
    assert.equal(t.connection.waiting, 2);
    t.socket().ok(patches(t.socket())[0], 6);
    await settle();
    const second = patches(t.socket())[1];
    assert.deepEqual(second.content.events, [
      { kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 300 },
      { kind: "ModelChanged", model: { id: "text" }, attr: "value", new: "typed" },
    ]);
    assert.equal(second.content.base, 5, "made before the OK moved the position on");
    t.socket().ok(second, 7);
    assert.equal(t.connection.lastSeq, 7);
  });

  it("keep every message: clicks are not merged", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    slider.set("value", 1);
    await settle();
    for (let i = 0; i < 3; i++) t.document.sendMessage("button_click", null, { model: slider });
    t.socket().ok(patches(t.socket())[0], 6);
    await settle();
    assert.equal(patches(t.socket())[1].content.events.filter((e) => e.kind === "MessageSent").length, 3);
  });

  it("lose to a whole value the server sends for the same property while they wait", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    slider.set("value", 1);
    await settle();
    slider.set("value", 2);
    t.document.getModelByName("text").set("value", "kept");
    t.socket().patch(setValue("slider", 42), 6);
    assert.equal(slider.get("value"), 42);
    t.socket().ok(patches(t.socket())[0], 7);
    await settle();
    assert.deepEqual(patches(t.socket())[1].content.events, [
      { kind: "ModelChanged", model: { id: "text" }, attr: "value", new: "kept" },
    ]);
  });

  it("carry new models as references and arrays as binary frames, without copies", async () => {
    const t = await live();
    const source = t.document.getModelByName("source");
    const rows = new Float64Array([3, 4]);
    source.stream("data", { x: rows });
    await settle();
    const socket = t.socket();
    const binary = socket.frames.filter((frame) => typeof frame !== "string");
    assert.equal(binary.length, 1);
    assert.equal(binary[0].buffer, rows.buffer, "the typed array's own memory");
    const [patch] = patches(socket);
    assert.equal(patch.content.events[0].kind, "ColumnsStreamed");
    assert.equal(patch.buffers.length, 1);
  });

  it("that the server refuses are reported as lost, and the server's correction puts the value back", async () => {
    const t = await live();
    const lost = [];
    t.connection.on("lost", (detail) => lost.push(detail));
    t.document.getModelByName("slider").set("name", "renamed");
    await settle();
    const [patch] = patches(t.socket());
    t.socket().error(patch, "Slider.name is not writable from the client");
    assert.deepEqual(t.errors.at(-1), {
      text: "Slider.name is not writable from the client", code: "patch-refused", reqid: patch.msgid, msgtype: "PATCH-DOC",
    });
    assert.match(t.log.errors.at(-1), /not writable/);
    assert.deepEqual(lost, [{ reason: "refused", changes: ["renamed.name"], count: 1, text: "Slider.name is not writable from the client" }]);
    t.socket().patch([{ kind: "ModelChanged", model: { id: "slider" }, attr: "name", new: "slider" }], 6);
    assert.equal(t.document.getModelById("slider").get("name"), "slider");
    assert.equal(t.socket().messages().filter((m) => m.msgtype === "PULL-DOC-REQ").length, 1, "no pull: the correction is enough");
  });

  it("that the server would refuse by closing are not sent, reported lost, and undone by a pull", async () => {
    const sendLimits = { maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 22, maxBuffers: 8, maxFrameContainers: 50, maxFrameValues: 60 };
    const t = await live({ sendLimits });
    const lost = [];
    t.connection.on("lost", (detail) => lost.push(detail));
    const text = t.document.getModelByName("text");
    // 100 one-item lists, and the content's 6 others (itself, events, the event, its model,
    // the list, references): the server takes 50 arrays and objects at most.
    text.set("tags", Array.from({ length: 100 }, (_, i) => [i]));
    await settle();
    assert.equal(patches(t.socket()).length, 0, "nothing the server must refuse is sent");
    assert.equal(t.socket().closed, null);
    assert.deepEqual(lost, [{
      reason: "too-large", changes: ["text.tags"], count: 1, text: "not sent: too many arrays and objects in content frame: 106 > 50",
    }]);
    assert.equal(t.socket().last().msgtype, "PULL-DOC-REQ");
    t.socket().replyPull(serverDocument(), 6);
    await settle();
    assert.equal(t.document.getModelByName("text").get("tags"), undefined, "the server's document again");
    assert.equal(t.connection.state, ConnectionState.LIVE);
    // Values, as the server counts them: commas and colons outside strings (not in them).
    t.document.getModelByName("text").set("value", ",:".repeat(1000));
    t.document.getModelByName("slider").set("tags", Array.from({ length: 100 }, (_, i) => i));
    await settle();
    assert.deepEqual(patches(t.socket()).map((p) => p.content.events.map((e) => e.attr)), [["value"]]);
    t.socket().ok(patches(t.socket())[0], 7);
    await settle();
    assert.equal(patches(t.socket()).length, 1, "the list of 100 is not sent");
    assert.match(lost.at(-1).text, /^not sent: too many values in content frame: 1\d\d > 60$/);
  });

  it("that the server would refuse together are sent in smaller patches", async () => {
    const t = await live({ sendLimits: { maxFrameValues: 60 } });
    const slider = t.document.getModelByName("slider");
    const text = t.document.getModelByName("text");
    slider.set("tags", Array.from({ length: 30 }, (_, i) => i));
    text.set("tags", Array.from({ length: 30 }, (_, i) => i));
    await settle();
    const [first] = patches(t.socket());
    assert.deepEqual(first.content.events.map((e) => e.model.id), ["slider"]);
    t.socket().ok(first, 6);
    await settle();
    const second = patches(t.socket())[1];
    assert.deepEqual(second.content.events.map((e) => e.model.id), ["text"]);
    assert.equal(second.content.base, first.content.base, "made on the same position");
  });

  it("that lose the convergence rule are reported as lost", async () => {
    const t = await live();
    const lost = [];
    t.connection.on("lost", (detail) => lost.push(detail));
    t.document.getModelByName("slider").set("value", 7);
    t.document.getModelByName("text").set("value", "kept");
    await settle();
    const [patch] = patches(t.socket());
    t.socket().deliver(newMessage("OK", { seq: 6, rejected: 1, lost: [0] }, { reqid: patch.msgid }));
    assert.deepEqual(lost, [{ reason: "rejected", changes: ["slider.value"], count: 1, text: null }]);
  });
});

describe("requests", () => {
  it("are matched to replies by reqid", async () => {
    const t = await live();
    const reply = t.connection.request(newMessage(SERVER_INFO_REQ));
    const request = t.socket().last();
    t.socket().deliver(newMessage("OK", {}, { reqid: "not-ours" }));
    t.socket().deliver(newMessage(SERVER_INFO_REPLY, { version_info: { docsync: "1" } }, { reqid: request.msgid }));
    assert.deepEqual((await reply).content, { version_info: { docsync: "1" } });
  });

  it("reject with ServerError on ERROR, with ConnectionLostError when the socket drops", async () => {
    const t = await live();
    const refused = t.connection.request(newMessage(SERVER_INFO_REQ));
    t.socket().error(t.socket().last(), "no", "bad-request");
    await assert.rejects(refused, (err) => err instanceof ServerError && err.code === "bad-request");
    const lost = t.connection.request(newMessage(SERVER_INFO_REQ));
    t.socket().drop();
    await assert.rejects(lost, ConnectionLostError);
    await assert.rejects(t.connection.request(newMessage(SERVER_INFO_REQ)), ConnectionLostError);
  });
});

describe("reconnection", () => {
  it("reconnects with growing delays and resumes, receiving only what it missed", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    t.socket().drop(1006);
    assert.equal(t.connection.state, ConnectionState.RECONNECTING);
    assert.deepEqual(t.timers.pending(), [500]);
    t.timers.advance(500);
    t.socket().drop(1006);
    assert.deepEqual(t.timers.pending(), [1000]);
    t.timers.advance(1000);
    assert.equal(t.sockets.length, 3);
    t.socket().ack();
    assert.deepEqual(t.socket().last().content, { last_seq: 5, client_id: "client-1", incarnation: "i1" });
    t.socket().replyResume({ mode: "replay", seq: 12, patches: [{ events: setValue("slider", 8), references: [], seq: 12 }] });
    assert.equal(t.connection.state, ConnectionState.LIVE);
    assert.equal(t.document.getModelByName("slider"), slider, "the same model object: views stay");
    assert.equal(slider.get("value"), 8);
    assert.equal(t.connection.lastSeq, 12);
    assert.deepEqual(t.states.map((s) => [s.state, s.attempt ?? null, s.mode ?? null]), [
      ["connecting", null, null], ["live", null, "pull"], ["reconnecting", 1, null], ["reconnecting", 2, null], ["live", null, "replay"],
    ]);
    assert.equal(t.states.at(-1).replayed, 1);
    assert.equal(t.states.at(-1).bytes, t.connection.bytes.handshake);
    assert.ok(t.connection.bytes.handshake > 0);
    t.socket().drop(1006);
    assert.deepEqual(t.timers.pending(), [500], "a successful resume starts the delays over");
  });

  it("by default tries for about a minute and a half, then fails saying the socket never opened", async () => {
    // The README says a page whose websocket is refused shows reconnecting…, then disconnected.
    const t = setup();
    t.connection.connect();
    let waited = 0;
    while (t.connection.state !== ConnectionState.FAILED) {
      t.socket().refuse();
      const [delay] = t.timers.pending();
      if (delay === undefined) break;
      waited += delay;
      t.timers.advance(delay);
    }
    assert.equal(t.connection.state, ConnectionState.FAILED);
    assert.equal(t.sockets.length, 13, "the first socket and 12 attempts");
    assert.equal(waited, 500 + 1_000 + 2_000 + 4_000 + 8_000 + 7 * 10_000);
    assert.match(t.states.at(-1).reason, /^gave up after 12 attempts: the websocket could not be opened/);
  });

  it("caps the delay, adds jitter, and fails after the last attempt", async () => {
    const t = setup({ backoff: { initial: 100, factor: 3, max: 1000, maxAttempts: 4, jitter: 0.5 }, random: () => 0 });
    t.connection.connect();
    const delays = [];
    for (let i = 0; i < 4; i++) {
      t.socket().drop(1006);
      delays.push(...t.timers.pending());
      t.timers.advance(delays.at(-1));
    }
    assert.deepEqual(delays, [50, 150, 450, 500], "half of 100, 300, 900 and of the 1000 cap");
    t.socket().drop(1006, "gone");
    assert.equal(t.connection.state, ConnectionState.FAILED);
    assert.match(t.states.at(-1).reason, /gave up after 4 attempts/);
    await assert.rejects(t.connection.ready, ConnectionLostError);
  });

  it("logs the traceback an ERROR carries (DEBUG only) and passes it on with the error", async () => {
    // The page said "application error: ZeroDivisionError: division by zero" and nothing of where.
    const t = setup();
    t.connection.connect();
    const trace = 'Traceback (most recent call last):\n  File "/site/app.py", line 2, in modify_doc\nZeroDivisionError: division by zero';
    t.socket().error(null, "application error: ZeroDivisionError: division by zero", "close-1011", { detail: trace });
    assert.equal(t.errors.at(-1).detail, trace);
    assert.equal(t.log.errors.at(-1), `docsync: application error: ZeroDivisionError: division by zero (close-1011)\n${trace}`);
    t.socket().error(null, "token expired", "close-1008", { detail: 42 });
    assert.equal("detail" in t.errors.at(-1), false, "a detail that is not text is dropped");
    t.socket().error(null, "long", "close-1011", { detail: "x".repeat(MAX_DETAIL_CHARS + 10) });
    assert.equal(t.errors.at(-1).detail.length, MAX_DETAIL_CHARS);
  });

  it("says when the websocket could not be opened at all, and when it dropped once open", async () => {
    // An asgi.py serving HTTP only refuses the handshake: the page said "closed with code 1006".
    const t = setup();
    t.connection.connect();
    t.socket().refuse();
    assert.equal(t.connection.state, ConnectionState.RECONNECTING);
    assert.equal(
      t.states.at(-1).reason,
      "the websocket could not be opened (closed with code 1006): the server refused its handshake or cannot be reached",
    );
    t.timers.advance(1_000); // the next attempt
    t.socket().onopen();
    t.socket().drop(1006, "");
    assert.equal(t.states.at(-1).reason, "closed with code 1006");
  });

  it("does not retry when the server refused the token, and says why", async () => {
    const t = setup();
    t.connection.connect();
    t.socket().error(null, "token expired", "close-1008");
    t.socket().drop(1008, "");
    assert.equal(t.connection.state, ConnectionState.FAILED);
    assert.equal(t.states.at(-1).reason, "token expired");
    assert.deepEqual(t.timers.pending(), []);
  });

  it("sends again what was in flight, then the changes made while disconnected, with their base", async () => {
    const t = await live();
    const slider = t.document.getModelByName("slider");
    slider.set("value", 1);
    await settle();
    const [inFlight] = patches(t.socket());
    t.socket().drop(1006); // the patch in flight may or may not have landed
    slider.set("value", 2);
    t.document.sendMessage("click");
    await settle();
    assert.equal(t.connection.waiting, 2);
    t.timers.advance(500);
    t.socket().ack();
    t.socket().replyResume({ mode: "replay", seq: 7, patches: [{ events: setValue("text", "theirs"), references: [], seq: 7 }] });
    await settle();
    const [resent] = patches(t.socket());
    assert.equal(resent.msgid, inFlight.msgid, "the same message: the server knows it by msgid");
    assert.deepEqual(resent.content, inFlight.content);
    assert.equal(patches(t.socket()).length, 1, "one patch in flight at a time");
    t.socket().deliver(newMessage("OK", { seq: 8, rejected: 0, applied_seq: 6 }, { reqid: resent.msgid }));
    await settle();
    const [, offline] = patches(t.socket());
    assert.deepEqual(offline.content.events, [
      { kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 2 },
      { kind: "MessageSent", msg_type: "click", msg_data: null },
    ]);
    assert.equal(offline.content.base, 5, "made on position 5, while disconnected");
    assert.equal(slider.get("value"), 2);
    assert.equal(t.document.getModelByName("text").get("value"), "theirs");
    assert.deepEqual(t.errors, []);
  });

  it("says when the resume found a fresh session, and which changes were lost with the old one", async () => {
    const t = await live();
    const lost = [];
    t.connection.on("lost", (detail) => lost.push(detail));
    t.socket().drop(1006);
    t.document.getModelByName("slider").set("value", 3);
    await settle();
    t.timers.advance(500);
    t.socket().ack();
    const fresh = serverDocument();
    const { doc, buffers } = fresh.toJSON();
    t.socket().replyResume({ mode: "full", fresh: true, seq: 0, doc, incarnation: "i2" }, { buffers });
    assert.deepEqual([t.states.at(-1).state, t.states.at(-1).mode, t.states.at(-1).fresh], ["live", "full", true]);
    assert.equal(t.document.getModelByName("slider").get("value"), 0, "the fresh document");
    assert.equal(t.connection.protocol.incarnation, "i2");
    await settle();
    const [offline] = patches(t.socket());
    assert.equal(offline.content.base, 5, "sent with its base: the server decides (it loses to the fence)");
    t.socket().ok(offline, 0, 1);
    assert.deepEqual(lost, [{ reason: "rejected", changes: ["slider.value"], count: 1, text: null }]);
  });

  it("drops a socket that sends bad frames, then reconnects", async () => {
    const t = await live();
    t.socket().deliverFrame(new Uint8Array([1, 2]));
    assert.deepEqual(t.sockets[0].closed, { code: 4002, reason: "bad frames" });
    assert.equal(t.errors.at(-1).text, "bad frames from the server: expected text header frame, got binary frame");
    assert.equal(t.connection.state, ConnectionState.RECONNECTING);
  });

  it("stops for good on close(): nothing more is sent or retried", async () => {
    const t = await live();
    t.connection.close();
    assert.deepEqual(t.socket().closed, { code: 1000, reason: "closed by the page" });
    t.document.getModelByName("slider").set("value", 5);
    await settle();
    assert.equal(patches(t.socket()).length, 0);
    assert.equal(t.connection.state, ConnectionState.CLOSED);
    assert.deepEqual(t.timers.pending(), []);
    assert.throws(() => t.connection.connect(), /cannot connect after the connection closed/);
  });
});
