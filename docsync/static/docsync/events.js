/**
 * Document change events: what changed, and who changed it (the setter); the mirror of
 * docsync/document/events.py. ``kind`` is each event's name on the wire.
 */

/** Base of every change event. */
export class DocumentEvent {
  constructor(setter = null) {
    /** Who made the change (a connection, so that it is not echoed back to it). */
    this.setter = setter;
    /** Models this change attached to the document (sent in full with the event). */
    this.newModels = [];
    /** Ids of the models this change detached from the document. */
    this.departed = [];
  }

  /** The event's name on the wire. */
  get kind() {
    return this.constructor.kind;
  }

  /** Return a key naming the (model, attribute) this event touches, or null. */
  propertyKey() {
    return this.model && this.attr !== undefined ? propertyKey(this.model.id, this.attr) : null;
  }
}

/** Return the key of property ``attr`` of the model with id ``modelId``. */
export function propertyKey(modelId, attr) {
  return JSON.stringify([modelId, attr]);
}

/** A property was given a whole new value. */
export class ModelChangedEvent extends DocumentEvent {
  static kind = "ModelChanged";

  constructor(model, attr, old, value, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.old = old;
    this.new = value;
  }
}

/** Some columns of a data source were replaced. */
export class ColumnDataChangedEvent extends DocumentEvent {
  static kind = "ColumnDataChanged";

  constructor(model, attr, columns, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.columns = columns;
  }
}

/** Rows were appended to every column, keeping at most ``rollover`` rows. */
export class ColumnsStreamedEvent extends DocumentEvent {
  static kind = "ColumnsStreamed";

  constructor(model, attr, data, rollover = null, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.data = data;
    this.rollover = rollover;
  }
}

/** Cells of columns were replaced: ``patches`` is {column: [[index or Slice, value], ...]}. */
export class ColumnsPatchedEvent extends DocumentEvent {
  static kind = "ColumnsPatched";

  constructor(model, attr, patches, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.patches = patches;
  }
}

/** ``delete`` items at ``index`` of a list property were replaced by ``items``. */
export class ListSplicedEvent extends DocumentEvent {
  static kind = "ListSpliced";

  constructor(model, attr, index, deleteCount, items, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.index = index;
    this.delete = deleteCount;
    this.items = items;
  }
}

/** Entries of a dict property were set (``items``: a plain object or a Map). */
export class DictItemsSetEvent extends DocumentEvent {
  static kind = "DictItemsSet";

  constructor(model, attr, items, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.items = items;
  }
}

/** Entries of a dict property (or columns of a data source) were deleted. */
export class DictItemsDeletedEvent extends DocumentEvent {
  static kind = "DictItemsDeleted";

  constructor(model, attr, keys, setter = null) {
    super(setter);
    this.model = model;
    this.attr = attr;
    this.keys = keys;
  }
}

/** A model became a root of the document. */
export class RootAddedEvent extends DocumentEvent {
  static kind = "RootAdded";

  constructor(model, setter = null) {
    super(setter);
    this.model = model;
  }
}

/** A model stopped being a root of the document. */
export class RootRemovedEvent extends DocumentEvent {
  static kind = "RootRemoved";

  constructor(model, setter = null) {
    super(setter);
    this.model = model;
  }
}

/** The document title changed. */
export class TitleChangedEvent extends DocumentEvent {
  static kind = "TitleChanged";

  constructor(title, setter = null) {
    super(setter);
    this.title = title;
  }
}

/** A message: a UI event aimed at a model, or an application-defined message. */
export class MessageSentEvent extends DocumentEvent {
  static kind = "MessageSent";

  constructor(msgType, msgData = null, model = null, setter = null) {
    super(setter);
    this.msgType = msgType;
    this.msgData = msgData;
    this.model = model;
  }
}
