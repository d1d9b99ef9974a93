/**
 * Apply decoded events atomically: check every one against a simulation of the state
 * it will meet, then apply them all; the mirror of docsync/document/patching.py.
 *
 * The simulation keeps only what the checks read: the roots, list lengths, dict copies
 * and column shapes. Streamed columns are not built twice: the check records the rows a
 * column will have (a ColumnShape), and the rows are joined once, when applied.
 */

import { checkPatches, checkStream, ColumnShape, rowCount, rowsAfterStream } from "./columns.js";
import { PatchError, UnknownModelError, ValidationError } from "./exceptions.js";
import * as ev from "./events.js";
import { propertyKey } from "./events.js";
import { checkColumns, checkSplice, columnsOf, dictOf, listOf } from "./model.js";
import { dictCopy, dictDelete, dictUpdate, entriesOf, findKey } from "./values.js";
import { pyReprCut } from "./pyrepr.js";

class Checker {
  constructor(document, newModels) {
    this.document = document;
    this.newModels = newModels;
    this.roots = [...document.roots];
    this.values = new Map(); // property key -> whole value given earlier in the patch
    this.lists = new Map(); // property key -> simulated length
    this.dicts = new Map(); // property key -> simulated dict (columns as ColumnShape or column)
  }

  model(model) {
    if (this.newModels.get(model.id) === model || this.document.models.get(model.id) === model) return model;
    throw new UnknownModelError(`unknown model id ${pyReprCut(model.id, 60)}`);
  }

  value(model, attr) {
    const key = propertyKey(model.id, attr);
    return this.values.has(key) ? this.values.get(key) : model.get(attr);
  }

  listLength(model, attr) {
    const key = propertyKey(model.id, attr);
    if (!this.lists.has(key)) this.lists.set(key, listOf(model, attr, this.value(model, attr)).length);
    return this.lists.get(key);
  }

  dict(model, attr) {
    const key = propertyKey(model.id, attr);
    if (!this.dicts.has(key)) this.dicts.set(key, dictCopy(dictOf(model, attr, this.value(model, attr))));
    return this.dicts.get(key);
  }

  columns(model, attr) {
    const key = propertyKey(model.id, attr);
    if (!this.dicts.has(key)) this.dicts.set(key, { ...columnsOf(model, attr, this.value(model, attr)) });
    return columnsOf(model, attr, this.dicts.get(key));
  }

  /** Record that a property is given a whole new value: later checks start from it. */
  replaced(model, attr, value) {
    const key = propertyKey(model.id, attr);
    this.values.set(key, value);
    this.lists.delete(key);
    this.dicts.delete(key);
  }
}

function check(checker, event, setter) {
  const document = checker.document;
  if (event instanceof ev.TitleChangedEvent) return () => document.setTitle(event.title, setter);
  if (event instanceof ev.MessageSentEvent) {
    if (event.model) checker.model(event.model);
    return () => document._messageReceived(event);
  }
  if (event instanceof ev.RootAddedEvent) {
    const model = checker.model(event.model);
    if (checker.roots.includes(model)) throw new PatchError(`${model} is already a root`);
    checker.roots.push(model);
    return () => document.addRoot(model, setter);
  }
  if (event instanceof ev.RootRemovedEvent) {
    const model = checker.model(event.model);
    if (!checker.roots.includes(model)) throw new PatchError(`${model} is not a root`);
    checker.roots.splice(checker.roots.indexOf(model), 1);
    return () => document.removeRoot(model, setter);
  }
  const model = checker.model(event.model);
  try {
    return checkPropertyEvent(checker, model, event, setter);
  } catch (err) {
    if (err instanceof ValidationError) throw new PatchError(err.message);
    throw err;
  }
}

function checkPropertyEvent(checker, model, event, setter) {
  const attr = event.attr;
  if (event instanceof ev.ModelChangedEvent) {
    checker.replaced(model, attr, event.new);
    return () => model._setValue(attr, event.new, setter);
  }
  if (event instanceof ev.ListSplicedEvent) {
    const length = checker.listLength(model, attr);
    checkSplice(model, attr, event.index, event.delete, length);
    checker.lists.set(propertyKey(model.id, attr), length - event.delete + event.items.length);
    return () => model._splice(attr, event.index, event.delete, event.items, setter);
  }
  if (event instanceof ev.DictItemsSetEvent || event instanceof ev.ColumnDataChangedEvent) {
    const columns = event instanceof ev.ColumnDataChangedEvent;
    const items = columns ? event.columns : event.items;
    // Python's order of complaints: not a dict, then bad items, then None.
    if (checker.value(model, attr) !== null) checker.dict(model, attr);
    if (columns) checkColumns(model, attr, items);
    const simulated = checker.dict(model, attr);
    checker.dicts.set(propertyKey(model.id, attr), dictUpdate(simulated, entriesOf(items)));
    return () => model._dictSet(attr, items, setter, columns);
  }
  if (event instanceof ev.DictItemsDeletedEvent) {
    const simulated = checker.value(model, attr) === null ? null : checker.dict(model, attr);
    const missing = event.keys.find((key) => simulated === null || !findKey(simulated, key).found);
    if (missing !== undefined) throw new PatchError(`${model.type}.${attr} has no key ${pyReprCut(missing, 40)}`);
    dictDelete(simulated, event.keys);
    return () => model._dictDelete(attr, event.keys, setter);
  }
  const columns = checker.columns(model, attr);
  if (event instanceof ev.ColumnsStreamedEvent) {
    const rows = checkStream(columns, event.data, event.rollover);
    for (const [name, newRows] of Object.entries(rows)) {
      const shape = rowsAfterStream(rowCount(columns[name]), rowCount(newRows), event.rollover);
      columns[name] = new ColumnShape(columns[name] instanceof ColumnShape ? columns[name].like : columns[name], shape);
    }
    return () => model._stream(attr, rows, event.rollover, setter);
  }
  if (event instanceof ev.ColumnsPatchedEvent) {
    const patches = checkPatches(columns, event.patches);
    return () => model._patch(attr, patches, setter);
  }
  throw new PatchError(`cannot apply ${event.kind} events`);
}

/** Check every event, then apply them all; on any error apply none. */
export function applyEvents(document, events, { setter = null, newModels = new Map() } = {}) {
  const checker = new Checker(document, newModels);
  const steps = events.map((event) => check(checker, event, setter));
  for (const step of steps) step();
}
