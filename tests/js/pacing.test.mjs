// The client's own bucket (pacing.js), alone on a clock the test moves, then in
// connection.js against a fake socket: a burst under the server's, then its rate; changes
// made meanwhile merged into one patch sent on a timer; requests kept in order.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Connection } from "../../docsync/static/docsync/connection.js";
import { Document } from "../../docsync/static/docsync/document.js";
import { DEFAULT_MESSAGES_PER_SECOND, Pacer, announcedRate } from "../../docsync/static/docsync/pacing.js";
import { SERVER_INFO_REPLY, SERVER_INFO_REQ, newMessage } from "../../docsync/static/docsync/protocol.js";
import { FakeSocket, FakeTimers, fakeLog, serverDocument, settle } from "./fake_socket.mjs";

describe("Pacer", () => {
  it("allows a burst of less than the rate, then the rate", () => {
    let now = 100_000;
    const pacer = new Pacer(20, () => now);
    // One token less than the server's 20, and a tenth less: 18 at once.
    assert.deepEqual(Array.from({ length: 19 }, () => pacer.take()), [...Array(18).fill(true), false]);
    assert.equal(pacer.delay(), 51, "1/20 s, and a millisecond more");
    now += pacer.delay();
    assert.ok(pacer.ready() && pacer.take() && !pacer.take());
    now += 10_000; // refilled up to the burst, no further
    assert.equal(Array.from({ length: 40 }, () => pacer.take()).filter(Boolean).length, 18);
    pacer.reset(); // a new connection: full again
    assert.equal(Array.from({ length: 40 }, () => pacer.take()).filter(Boolean).length, 18);
    assert.equal(pacer.delay(), 51);
  });

  it("keeps one at once at small rates", () => {
    assert.deepEqual([new Pacer(1).burst, new Pacer(2).burst, new Pacer(200).burst], [1, 1, 180]);
  });

  for (const rate of [0, -1, NaN, Infinity, "20", null]) {
    it(`refuses a rate of ${String(rate)}`, () => {
      assert.throws(() => new Pacer(rate), /positive number of messages per second/);
    });
  }

  it("reads the page's announced rate, 200 when it does not say", () => {
    assert.equal(announcedRate({ maxPatchesPerSecond: 20 }), 20);
    assert.equal(DEFAULT_MESSAGES_PER_SECOND, 200);
    for (const limits of [null, undefined, {}, { maxPatchesPerSecond: "20" }, { maxPatchesPerSecond: 0 }, { maxPatchesPerSecond: Infinity }]) {
      assert.equal(announcedRate(limits), 200);
    }
  });
});

/** A live connection to a fake server announcing ``rate`` (none announced: null). */
async function live(rate) {
  const sockets = [];
  const timers = new FakeTimers();
  const document = new Document();
  const connection = new Connection(document, {
    url: "ws://test/app/ws",
    token: "signed-token",
    clientId: "client-1",
    socketFactory: (url, protocols) => {
      sockets.push(new FakeSocket(url, protocols));
      return sockets.at(-1);
    },
    timers,
    clock: () => timers.now,
    log: fakeLog(),
    random: () => 0.5,
    sendLimits: rate === null ? null : { maxPatchesPerSecond: rate },
  });
  connection.connect();
  sockets.at(-1).ack();
  sockets.at(-1).replyPull(serverDocument(), 5);
  await connection.ready;
  const socket = () => sockets.at(-1);
  const sent = () => socket().messages().filter((m) => m.msgtype !== "PULL-DOC-REQ" && m.msgtype !== "RESUME-REQ");
  const patches = () => socket().messages().filter((m) => m.msgtype === "PATCH-DOC");
  return { timers, document, connection, socket, sent, patches, slider: document.getModelByName("slider") };
}

/** Answer the last patch, as the server does once it applied it. */
async function answer(t, seq) {
  t.socket().ok(t.patches().at(-1), seq);
  await settle();
}

describe("a paced connection", () => {
  it("sends round trips back to back up to its burst, then waits for a timer and merges what was set meanwhile", async () => {
    const t = await live(20);
    let seq = 5;
    for (let i = 1; i <= 18; i++) {
      t.slider.set("value", i);
      await settle();
      assert.equal(t.patches().length, i);
      await answer(t, ++seq);
    }
    assert.deepEqual(t.timers.pending(), [], "no timer while the bucket has tokens");
    for (let i = 19; i <= 40; i++) {
      t.slider.set("value", i);
      t.document.getModelByName("text").set("value", `t${i}`);
      await settle();
    }
    assert.equal(t.patches().length, 18, "the 19th waits: the server would count a 20th within the second");
    assert.deepEqual(t.timers.pending(), [51], "one timer, not a loop");
    assert.equal(t.connection.waiting, 2, "the slider's values and the text's merged into one each");
    t.timers.advance(50);
    assert.equal(t.patches().length, 18);
    t.timers.advance(1);
    assert.equal(t.patches().length, 19);
    assert.deepEqual(t.patches().at(-1).content.events.map((e) => e.new), [40, "t40"]);
    await answer(t, ++seq);
    t.slider.set("value", 41);
    await settle();
    assert.equal(t.patches().length, 19, "the bucket is empty again: the next waits about 1/20 s");
    const [wait] = t.timers.pending();
    assert.ok(wait > 40 && wait <= 51, `${wait} ms`);
    t.timers.advance(wait);
    assert.equal(t.patches().at(-1).content.events[0].new, 41);
  });

  it("refills at the rate: after a second's pause, a burst again", async () => {
    const t = await live(20);
    let seq = 5;
    for (let i = 1; i <= 18; i++) {
      t.slider.set("value", i);
      await settle();
      await answer(t, ++seq);
    }
    t.slider.set("value", 19);
    await settle();
    assert.equal(t.patches().length, 18);
    t.timers.advance(1000); // the timer sends the 19th at 51 ms; the rest of the second refills
    assert.equal(t.patches().length, 19);
    await answer(t, ++seq);
    for (let i = 20; i <= 37; i++) {
      t.slider.set("value", i);
      await settle();
      await answer(t, ++seq);
    }
    assert.equal(t.patches().length, 37, "18 more back to back: the bucket was full again");
    assert.deepEqual(t.timers.pending(), []);
    t.slider.set("value", 38);
    await settle();
    assert.equal(t.patches().length, 37);
  });

  it("counts requests with the patches, and never lets one overtake changes made before it", async () => {
    const t = await live(2); // one at once
    t.slider.set("value", 1);
    await settle();
    await answer(t, 6);
    t.slider.set("value", 2); // waits for the rate
    await settle();
    const info = t.connection.request(newMessage(SERVER_INFO_REQ));
    assert.deepEqual(t.sent().map((m) => m.msgtype), ["PATCH-DOC"], "both wait");
    t.slider.set("value", 3); // made after the request: goes after its answer
    await settle();
    t.timers.advance(t.timers.pending()[0]);
    assert.deepEqual(t.sent().map((m) => [m.msgtype, m.content.events?.[0].new]), [["PATCH-DOC", 1], ["PATCH-DOC", 2]]);
    t.timers.advance(t.timers.pending()[0]);
    const request = t.sent().at(-1);
    assert.equal(request.msgtype, SERVER_INFO_REQ);
    t.socket().deliver(newMessage(SERVER_INFO_REPLY, { version_info: {} }, { reqid: request.msgid }));
    await info;
    await answer(t, 7);
    t.timers.advance(t.timers.pending()[0]);
    assert.deepEqual(t.sent().map((m) => m.content.events?.[0].new ?? m.msgtype), [1, 2, SERVER_INFO_REQ, 3]);
  });

  it("starts each connection with a full bucket, and drops its timer with the socket", async () => {
    const t = await live(2);
    t.slider.set("value", 1);
    await settle();
    await answer(t, 6);
    t.slider.set("value", 2);
    await settle();
    assert.equal(t.timers.pending().length, 1);
    t.socket().drop(1006);
    assert.deepEqual(t.timers.pending(), [500], "only the reconnection's");
    t.timers.advance(500);
    t.socket().ack();
    t.socket().replyResume({ mode: "replay", seq: 6, patches: [] });
    await settle();
    assert.deepEqual(t.socket().messages().map((m) => m.msgtype), ["RESUME-REQ", "PATCH-DOC"], "sent at once");
    assert.equal(t.patches()[0].content.events[0].new, 2);
  });

  it("paces to 200 when the page does not announce a rate", async () => {
    const t = await live(null);
    let seq = 5;
    for (let i = 1; i <= 181; i++) {
      t.slider.set("value", i);
      await settle();
      if (t.patches().length === i) await answer(t, ++seq);
    }
    assert.equal(t.patches().length, 180);
    assert.deepEqual(t.timers.pending(), [6], "1/200 s, and a millisecond more");
  });

  it("stops for good on close", async () => {
    const t = await live(2);
    t.slider.set("value", 1);
    await settle();
    await answer(t, 6);
    t.slider.set("value", 2);
    await settle();
    assert.equal(t.timers.pending().length, 1);
    t.connection.close();
    assert.deepEqual(t.timers.pending(), []);
    assert.equal(t.patches().length, 1);
  });
});
