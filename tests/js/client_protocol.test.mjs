// client_protocol.js, sans I/O: the scripts of tests/fixtures/wire/client_*.json (run
// through docsync/sync/client.py when written) give the same record here, step by step;
// then what the scripts do not show: illegal transitions and the limits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ClientProtocol, ClientState, describeChange } from "../../docsync/static/docsync/client_protocol.js";
import { Document } from "../../docsync/static/docsync/document.js";
import { ModelChangedEvent, RootAddedEvent, TitleChangedEvent } from "../../docsync/static/docsync/events.js";
import { ProtocolError } from "../../docsync/static/docsync/exceptions.js";
import { Model } from "../../docsync/static/docsync/model.js";
import { ACK, Message, newMessage } from "../../docsync/static/docsync/protocol.js";
import { splice, transform } from "../../docsync/static/docsync/splices.js";
import { base64Of, bytesFromBase64, canonical, loadFixtures } from "./helpers.mjs";

const scripts = loadFixtures().filter(([, fixture]) => fixture.kind === "client_script");

/** Replace every {"sent": k} in ``value`` by the msgid of the k-th message the client sent. */
function resolved(value, sent) {
  if (Array.isArray(value)) return value.map((item) => resolved(item, sent));
  if (value === null || typeof value !== "object") return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === "sent") return sent[value.sent - 1];
  return Object.fromEntries(keys.map((key) => [key, resolved(value[key], sent)]));
}

function serverMessage(raw, sent) {
  const buffers = (raw.buffers ?? []).map(([id, data]) => [id, bytesFromBase64(data)]);
  return new Message(resolved(raw.header, sent), raw.metadata ?? {}, resolved(raw.content, sent), buffers);
}

function shown(message, names) {
  const header = { ...message.header, msgid: names.get(message.msgid) };
  delete header.num_buffers;
  if (message.reqid !== null) header.reqid = names.get(message.reqid) ?? message.reqid;
  const buffers = message.buffers.map(([id, data]) => [id, base64Of(data)]);
  const content = { ...message.content };
  if (content.pending) content.pending = content.pending.map((msgid) => names.get(msgid)); // msgids sent before
  return JSON.parse(JSON.stringify({ header, metadata: message.metadata, content, buffers }));
}

function eventShown(event, names) {
  if (event.type === "reply") return { type: "reply", msgtype: event.message.msgtype };
  if (event.type === "error") return { ...event, reqid: event.reqid === null ? null : names.get(event.reqid) ?? event.reqid };
  return event;
}

function makeLocalChanges(document, step) {
  // Applying a received message calls its handlers; a user sends one instead.
  for (const raw of step.events) {
    if (raw.kind === "MessageSent") document.sendMessage(raw.msg_type, raw.msg_data);
    else document.applyPatch({ events: [raw], references: step.references ?? [] });
  }
}

/** Run a script's steps through a ClientProtocol; return the record of each step. */
function runScript(steps) {
  const document = new Document();
  const protocol = new ClientProtocol(document, { clientId: "client-1" });
  const sent = [];
  const names = new Map();
  const records = [];
  for (const step of steps) {
    if (step.do === "connect") protocol.connectionMade();
    else if (step.do === "lost") protocol.connectionLost();
    else if (step.do === "flush") protocol.flush();
    else if (step.do === "limits") protocol.sendLimits = step.limits;
    else if (step.do === "receive") protocol.receiveMessage(serverMessage(step.message, sent));
    else if (step.do === "local") makeLocalChanges(document, step);
    else throw new Error(`unknown step ${step.do}`);
    const out = [];
    for (const message of protocol.messagesToSend()) {
      if (!names.has(message.msgid)) {
        sent.push(message.msgid);
        names.set(message.msgid, `c${sent.length}`);
      }
      out.push(shown(message, names));
    }
    const record = {
      sent: out,
      events: protocol.eventsReceived().map((event) => eventShown(event, names)),
      state: protocol.state,
      last_seq: protocol.lastSeq,
      settled: protocol.settled,
    };
    if (step.check) record.document = canonical(document);
    records.push(record);
  }
  return records;
}

describe("client scripts shared with Python", () => {
  it("are there", () => assert.ok(scripts.length >= 6));

  for (const [name, fixture] of scripts) {
    it(`${name}: ${fixture.description}`, () => {
      const records = runScript(fixture.steps);
      fixture.steps.forEach((step, i) => {
        const where = `step ${i} (${step.do}${step.message ? ` ${step.message.header.msgtype}` : ""})`;
        assert.deepEqual(records[i], fixture.records[i], where);
      });
    });
  }
});

describe("ClientProtocol", () => {
  const make = () => new ClientProtocol(new Document(), { clientId: "c" });

  it("refuses what its state does not allow, saying why", () => {
    const protocol = make();
    assert.throws(() => protocol.receiveMessage(newMessage(ACK)), new ProtocolError("cannot receive ACK while idle"));
    protocol.connectionMade();
    assert.throws(() => protocol.connectionMade(), new ProtocolError("cannot go from connecting to connecting"));
    assert.throws(() => protocol.send(newMessage("SERVER-INFO-REQ")), /cannot send SERVER-INFO-REQ while connecting/);
    protocol.close();
    assert.equal(protocol.state, ClientState.CLOSED);
    assert.throws(() => protocol.connectionMade(), /cannot go from closed to connecting/);
    protocol.connectionLost(); // after close: nothing to do
  });

  it("takes a client id of 1 to 64 characters", () => {
    assert.throws(() => new ClientProtocol(new Document(), { clientId: "" }), RangeError);
    assert.throws(() => new ClientProtocol(new Document(), { clientId: "x".repeat(65) }), RangeError);
  });

  it("names changes as a notice would: the model's name, else its type", () => {
    const named = new Model("Slider", { id: "a", attributes: { name: "speed" } });
    const anonymous = new Model("Slider", { id: "b" });
    assert.equal(describeChange(new ModelChangedEvent(named, "value", 0, 1)), "speed.value");
    assert.equal(describeChange(new ModelChangedEvent(anonymous, "value", 0, 1)), "Slider.value");
    assert.equal(describeChange(new TitleChangedEvent("t")), "title");
    assert.equal(describeChange(new RootAddedEvent(named)), "roots");
  });
});

describe("splice transforms shared with Python", () => {
  const [[, fixture]] = loadFixtures().filter(([, f]) => f.kind === "splice_transforms");
  const parse = (text) => {
    const [index, del, count] = text.trim().split(" ").map(Number);
    return splice(index, del, count);
  };

  it("give the same result for every pair of splices on small lists", () => {
    assert.ok(fixture.cases.length > 1000);
    for (const line of fixture.cases) {
      const [pair, after] = line.split(" -> ");
      const [first, second] = pair.split(" | ").map(parse);
      const result = transform(first, second);
      const shown = result === null ? "conflict" : result.map((s) => `${s.index} ${s.delete} ${s.count}`).join(" | ");
      assert.equal(`${pair} -> ${shown}`, line);
    }
  });
});
