// Connection.settled: what the browser tests wait for before they compare documents.
import assert from "node:assert/strict";
import { it } from "node:test";

import { Connection } from "../../docsync/static/docsync/connection.js";
import { Document } from "../../docsync/static/docsync/document.js";
import { FakeSocket, FakeTimers, fakeLog, serverDocument, settle } from "./fake_socket.mjs";

it("is settled only while live with no change in flight or waiting", async () => {
  let socket = null;
  const document = new Document();
  const connection = new Connection(document, {
    url: "ws://test/app/ws",
    token: "t",
    socketFactory: (url, protocols) => (socket = new FakeSocket(url, protocols)),
    timers: new FakeTimers(),
    log: fakeLog(),
  });
  assert.equal(connection.settled, false, "not before it is live");
  connection.connect();
  socket.ack();
  assert.equal(connection.settled, false, "not while the pull is answered");
  socket.replyPull(serverDocument(), 1);
  await connection.ready;
  assert.equal(connection.settled, true);
  document.getModelByName("slider").set("value", 2);
  assert.equal(connection.settled, false, "a change waits");
  await settle();
  const sent = socket.last();
  assert.equal(sent.msgtype, "PATCH-DOC");
  assert.equal(connection.settled, false, "a change is in flight");
  socket.ok(sent, 2);
  await settle();
  assert.equal(connection.settled, true);
});
