/**
 * Errors raised by the docsync client, the same tree as docsync/exceptions.py.
 *
 *     DocsyncError
 *     ├── ProtocolError            a frame sequence that is not a valid message
 *     ├── SerializationError       a value that cannot be encoded
 *     ├── DeserializationError     JSON or buffers that cannot be decoded safely
 *     ├── ValidationError          a value of the wrong kind
 *     ├── PatchError               a patch refused as a whole; the document is unchanged
 *     │   └── UnknownModelError    a patch names a model id the document does not hold
 *     ├── ServerError              the server answered a request with ERROR
 *     └── ConnectionLostError      the connection closed before a request was answered
 *
 * Messages are short lowercase fragments that show the offending value, worded as the
 * Python side words them so that both sides report a fault the same way.
 */

/** Base class of every docsync error. */
export class DocsyncError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** A frame or frame sequence breaks the wire protocol. */
export class ProtocolError extends DocsyncError {}

/** A value cannot be encoded for the wire. */
export class SerializationError extends DocsyncError {}

/** Received JSON or buffers cannot be decoded into trusted values. */
export class DeserializationError extends DocsyncError {}

/** A value of the wrong kind (a column that is not an array, say). */
export class ValidationError extends DocsyncError {}

/** A patch was refused as a whole; nothing of it was applied. */
export class PatchError extends DocsyncError {}

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
