/**
 * Errors raised by the docsync client, the same tree as docsync/exceptions.py.
 *
 *     DocsyncError
 *     ├── ProtocolError              a frame sequence that is not a valid message    close 1002
 *     │   └── MessageTooBigError     a frame, message or buffer count over its limit  close 1009
 *     ├── SerializationError         a value that cannot be encoded
 *     ├── DeserializationError       JSON or buffers that cannot be decoded safely
 *     ├── ValidationError            a value of the wrong kind
 *     ├── PatchError                 a patch refused as a whole; the document is unchanged
 *     │   └── UnknownModelError      a patch names a model id the document does not hold
 *     ├── ServerError                the server answered a request with ERROR
 *     ├── ConnectionLostError        the connection closed before a request was answered
 *     └── ConnectionClosingError     the server ended the websocket (each kind: its close code)
 *         ├── AccessRefusedError     token, origin, user or access rule refused      close 1008
 *         │   └── TokenError
 *         ├── NoSuchApplicationError no application at the websocket's path          close 4004
 *         ├── ApplicationError       the application failed to make the session      close 1011
 *         │   ├── ApplicationLoadError
 *         │   └── ApplicationStoppedError  it failed for this session too often      close 4011
 *         ├── ServerBusyError        the process cannot take the websocket now       close 1013
 *         │   ├── SessionLimitError
 *         │   ├── ClientLimitError
 *         │   ├── DirectoryUnavailableError
 *         │   ├── IncompleteInputLimitError
 *         │   └── StoreUnavailableError
 *         ├── StalledMessageError    a message left incomplete too long               close 4408
 *         ├── SlowReaderError        the client left too many bytes unread            close 4009
 *         ├── TooManyConnectionsError    the session has its maximum of connections  close 4008
 *         ├── RateLimitedError       too many patches, or new sessions, per second   close 4029
 *         ├── SessionExpiredError    the session expired (or an admin ended it)      close 4001
 *         ├── OwnerGoneError         the process holding the session went away       close 4010
 *         └── ServerDrainingError    the process is draining (deploy, restart)       close 4012
 *
 * Each class carries, as static data, its close code (``closeCode``), the ``code`` of the
 * ERROR the server sends before closing (``errorKind``) and what to do next (``action``):
 * "retry" (connect again after a backoff), "reconnect" (the session's process is gone:
 * connect again now) or "give-up" (trying again cannot help). ``closeErrorFor(code)``
 * turns a close code into its error. Messages are short lowercase fragments, worded as
 * the Python side words them.
 */

/** Base class of every docsync error. */
export class DocsyncError extends Error {
  static closeCode = null;
  static errorKind = null;
  static action = "retry";

  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A frame or frame sequence breaks the wire protocol. */
export class ProtocolError extends DocsyncError {
  static closeCode = 1002;
  static errorKind = "close-1002";
}

/** A frame, a message or its number of buffers is over the receiver's limit. */
export class MessageTooBigError extends ProtocolError {
  static closeCode = 1009;
  static errorKind = "close-1009";
}

/** A value cannot be encoded for the wire. */
export class SerializationError extends DocsyncError {}

/** Received JSON or buffers cannot be decoded into trusted values. */
export class DeserializationError extends DocsyncError {}

/** A value of the wrong kind (a column that is not an array, say). */
export class ValidationError extends DocsyncError {}

/** A patch was refused as a whole; nothing of it was applied. */
export class PatchError extends DocsyncError {
  static errorKind = "patch-refused";
}

/** A patch refers to a model id the document does not hold. */
export class UnknownModelError extends PatchError {}

/** The server answered a request with ERROR (``code`` says which kind, when it says). */
export class ServerError extends DocsyncError {
  constructor(message, code = null) {
    super(message);
    this.code = code;
  }
}

/** The connection closed (or was never open) before a request was answered. */
export class ConnectionLostError extends DocsyncError {}

/** The server ended the websocket: ``closeCode`` says why, ``action`` what to do next. */
export class ConnectionClosingError extends DocsyncError {
  static closeCode = 1011;
  static errorKind = "close-1011";
}

/** The token, the origin, the user or the application's access rule refused the websocket. */
export class AccessRefusedError extends ConnectionClosingError {
  static closeCode = 1008;
  static errorKind = "close-1008";
  static action = "give-up";
}

/** A token is missing, forged, expired or meant for something else. */
export class TokenError extends AccessRefusedError {}

/** No application is served at the websocket's path. */
export class NoSuchApplicationError extends ConnectionClosingError {
  static closeCode = 4004;
  static errorKind = "close-4004";
  static action = "give-up";
}

/** The application raised while making the session. */
export class ApplicationError extends ConnectionClosingError {}

/** The application's code could not be loaded. */
export class ApplicationLoadError extends ApplicationError {}

/** The application failed to make this session several times in a row: it is not tried again. */
export class ApplicationStoppedError extends ApplicationError {
  static closeCode = 4011;
  static errorKind = "close-4011";
  static action = "give-up";
}

/** The process cannot take the websocket now; trying again later may succeed. */
export class ServerBusyError extends ConnectionClosingError {
  static closeCode = 1013;
  static errorKind = "close-1013";
}

/** The process holds as many sessions as it may. */
export class SessionLimitError extends ServerBusyError {}

/** The client (a user, or else an address) holds as many sessions or websockets of the process as it may. */
export class ClientLimitError extends ServerBusyError {}

/** In a cluster, the session directory or the owning process cannot be reached. */
export class DirectoryUnavailableError extends ServerBusyError {}

/** The process holds its maximum of bytes in incomplete messages. */
export class IncompleteInputLimitError extends ServerBusyError {}

/** The session store (persistence) cannot be read or written now. */
export class StoreUnavailableError extends ServerBusyError {}

/** A message stayed incomplete, with no frame of it arriving, too long. */
export class StalledMessageError extends ConnectionClosingError {
  static closeCode = 4408;
  static errorKind = "close-4408";
}

/** The client read too slowly: the messages waiting for it passed the server's bound (resume). */
export class SlowReaderError extends ConnectionClosingError {
  static closeCode = 4009;
  static errorKind = "close-4009";
}

/** The session has as many connections as it may. */
export class TooManyConnectionsError extends ConnectionClosingError {
  static closeCode = 4008;
  static errorKind = "close-4008";
}

/** The connection sent patches faster than the server allows, or its client made sessions too fast. */
export class RateLimitedError extends ConnectionClosingError {
  static closeCode = 4029;
  static errorKind = "close-4029";
}

/** The session was destroyed (it expired, or the admin ended it). */
export class SessionExpiredError extends ConnectionClosingError {
  static closeCode = 4001;
  static errorKind = "close-4001";
  static action = "reconnect";
}

/** The process holding a relayed websocket's session went away. */
export class OwnerGoneError extends ConnectionClosingError {
  static closeCode = 4010;
  static errorKind = "close-4010";
  static action = "reconnect";
}

/** The process is draining (a deploy or restart): its sessions were saved; connect again and resume. */
export class ServerDrainingError extends ConnectionClosingError {
  static closeCode = 4012;
  static errorKind = "close-4012";
}

/** Every error class that ends a websocket, in the order of docsync/exceptions.py. */
export const CLOSING_ERRORS = Object.freeze([
  ProtocolError, MessageTooBigError, ConnectionClosingError, AccessRefusedError, NoSuchApplicationError,
  ApplicationError, ServerBusyError, StalledMessageError, SlowReaderError, TooManyConnectionsError, RateLimitedError,
  SessionExpiredError, OwnerGoneError, ServerDrainingError, TokenError, ApplicationLoadError, ApplicationStoppedError,
  SessionLimitError, ClientLimitError, DirectoryUnavailableError, IncompleteInputLimitError, StoreUnavailableError,
]);

// The most general class of each code: the first listed with it.
const BY_CODE = new Map();
for (const cls of CLOSING_ERRORS) if (!BY_CODE.has(cls.closeCode)) BY_CODE.set(cls.closeCode, cls);

/** Return the error a close with ``code`` means (a plain ConnectionLostError for codes the server does not define). */
export function closeErrorFor(code, reason = "") {
  const cls = BY_CODE.get(code);
  const text = reason || `closed with code ${code}`;
  if (!cls) return new ConnectionLostError(text);
  const err = new cls(text);
  err.closeCode = code;
  return err;
}

/** Return what a client should do after a close with ``code``: "retry", "reconnect" or "give-up". */
export function closeAction(code) {
  return BY_CODE.get(code)?.action ?? "retry";
}
