// client_session.js: the API a page's script uses, over a fake socket.
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { ClientSession } from "../../docsync/static/docsync/client_session.js";
import { FakeSocket, FakeTimers, fakeLog, serverDocument, settle } from "./fake_socket.mjs";

async function open() {
  const sockets = [];
  const socketFactory = (url, protocols) => {
    sockets.push(new FakeSocket(url, protocols));
    return sockets.at(-1);
  };
  const connecting = ClientSession.connect({ url: "ws://x/ws", token: "t", socketFactory, timers: new FakeTimers(), log: fakeLog() });
  sockets[0].ack();
  sockets[0].replyPull(serverDocument(), 1);
  return { session: await connecting, socket: sockets[0] };
}

describe("ClientSession", () => {
  it("finds models by name and sets their properties, which go to the server", async () => {
    const { session, socket } = await open();
    assert.equal(session.state, "live");
    assert.equal(session.getModelByName("slider"), session.getModelById("slider"));
    session.set("slider", "value", 4);
    await settle();
    assert.deepEqual(socket.last().content.events, [{ kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 4 }]);
    assert.throws(() => session.set("nope", "value", 1), /no model named "nope"/);
  });

  it("reports changes, local and from the server, until told to stop", async () => {
    const { session, socket } = await open();
    const changes = [];
    const values = [];
    const stop = session.onChange((event) => changes.push(event.kind));
    session.onPropertyChange("slider", "value", (attr, old, value) => values.push([old, value]));
    socket.patch([{ kind: "ModelChanged", model: { id: "slider" }, attr: "value", new: 7 }], 2);
    session.set("slider", "value", 8);
    stop();
    session.set("slider", "value", 9);
    assert.deepEqual(changes, ["ModelChanged", "ModelChanged"]);
    assert.deepEqual(values, [[0, 7], [7, 8], [8, 9]]);
  });

  it("sends messages, and hands the server's messages to who listens for their type", async () => {
    const { session, socket } = await open();
    session.sendMessage("button_click", null, { model: "slider" });
    await settle();
    assert.deepEqual(socket.last().content.events, [{ kind: "MessageSent", msg_type: "button_click", msg_data: null, model: { id: "slider" } }]);
    const notices = [];
    session.onMessage("docsync.notice", (data) => notices.push(data.text));
    socket.patch([{ kind: "MessageSent", msg_type: "docsync.notice", msg_data: { text: "hello" } }, { kind: "MessageSent", msg_type: "other", msg_data: null }], 2);
    assert.deepEqual(notices, ["hello"]);
  });

  it("reports state changes and errors, and closes", async () => {
    const { session, socket } = await open();
    const states = [];
    const errors = [];
    session.onStateChange((detail) => states.push(detail.state));
    session.onError((detail) => errors.push(detail.text));
    socket.error(null, "session expired", "close-4000");
    socket.drop(1006);
    session.close();
    assert.deepEqual(states, ["reconnecting", "closed"]);
    assert.deepEqual(errors, ["session expired"]);
  });
});
