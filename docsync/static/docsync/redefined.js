/**
 * A server patch that defines a model this client still holds: the model was made anew
 * there (the mirror of docsync/sync/redefined.py).
 *
 * The server defines a model in a patch only where an event attaches one its document
 * does not hold (or in a correction, which defines every model its value reaches, held or
 * not). A client holds such a model where its own unanswered changes kept it: it skipped
 * the server's removal of it (its own splices of that list conflicted, their list's whole
 * value following), or its own put-back of it waits. Keeping its own left it with the
 * values it had before the removal, where the server and every other client had the
 * definition's (convergence in memory with child moves, seed 4000000111). So a definition
 * that a RootAdded, ListSpliced or DictItemsSet attaches is laid over the model held, as
 * changes right after that event, which the client's pending changes of those
 * properties then lose to. (An attribute the definition leaves out, at its default on the
 * server, is left as it is: this client knows no defaults.) But not where the client holds
 * the model where the server does too (no list of its own unanswered changes, nor one left
 * stale, keeps it there): the server held it, the event naming it moved it, and the
 * definition is a correction's later in the patch, as the patch's end left it (seed 65476519).
 */

import { DeserializationError } from "./exceptions.js";
import { DictItemsSetEvent, ListSplicedEvent, ModelChangedEvent, RootAddedEvent, RootRemovedEvent } from "./events.js";
import { modelsIn } from "./model.js";
import { Decoder } from "./serialization.js";
import { isPlainObject, samePulled } from "./values.js";

/**
 * ``events`` with the changes a definition makes to a held model after the event attaching
 * it. ``missed``: held models whose server changes this client skipped (it had taken them
 * out, its change unanswered); a correction's definition of those is laid over them too.
 * ``serverHeld``: returns the ids of the models the client holds where the server holds
 * them too; a definition of one of those (not missed) is a correction's, as the patch's
 * end left it, not one made anew: the event naming it before moved it, and is kept as it is.
 * ``laid``: where given, gets the changes made laying a whole value's definition over a
 * missed model: the server's state before this client's unanswered changes of it, which
 * apply after them (they do not lose to them, unlike a definition an attaching event made).
 */
export function redefined(events, definitions, held, newModels, buffers, { setter = null, maxArrayElements = 100_000_000, missed = new Set(), serverHeld = null, laid = null } = {}) {
  if (!Array.isArray(definitions)) return events;
  const kept = new Map();
  for (const definition of definitions) {
    if (!isPlainObject(definition) || definition.type !== "object" || typeof definition.id !== "string") continue;
    const model = held.get(definition.id);
    const attributes = Object.hasOwn(definition, "attributes") ? definition.attributes : {};
    if (model !== undefined && !newModels.has(definition.id) && model.type === definition.name && isPlainObject(attributes)) {
      kept.set(definition.id, attributes);
    }
  }
  if (kept.size > 0 && serverHeld !== null) {
    // A model the server held too, moved by the event that names it (into a second layout,
    // say) and reached by a correction later in the patch, is defined by that correction,
    // with the patch's later changes of it: laid over, a splice of its list after the move
    // was applied twice (child moves in memory, seed 65476519).
    const there = serverHeld();
    for (const modelId of [...kept.keys()]) if (!missed.has(modelId) && there.has(modelId)) kept.delete(modelId);
  }
  if (kept.size === 0) return events; // (nearly always: a server patch defines models the client does not hold)
  const resolveRef = (modelId) => {
    const model = newModels.get(modelId) ?? held.get(modelId);
    if (model === undefined) throw new DeserializationError(`reference to unknown model id ${modelId}`);
    return model;
  };
  const decoder = new Decoder(buffers, { resolveRef, maxArrayElements });
  const done = new Set();
  const result = [];
  const heldOn = heldElsewhere(events, kept);
  for (const event of events) {
    result.push(event);
    let stack;
    let whole = false;
    if (event instanceof RootAddedEvent) {
      if (heldOn.has(event)) continue; // (the server held it elsewhere: the definition is a later correction's)
      stack = [event.model];
    }
    else if (event instanceof ListSplicedEvent || event instanceof DictItemsSetEvent) stack = [...modelsIn(event.items)];
    // A whole value (a correction, or a whole-list set) reaching a model whose server
    // changes this client skipped: only those take the definition.
    else if (event instanceof ModelChangedEvent && missed.size > 0) {
      stack = [...modelsIn(event.new)].filter((model) => missed.has(model.id));
      whole = true;
    } else continue;
    while (stack.length > 0) { // what the event attaches: the models it names, and those they reach
      const model = stack.pop();
      if (done.has(model.id)) continue;
      done.add(model.id);
      const attributes = kept.get(model.id);
      if (attributes === undefined) {
        if (newModels.has(model.id)) stack.push(...model.references());
        continue;
      }
      stack.push(...model.references());
      let values;
      try {
        values = Object.entries(attributes).map(([attr, raw]) => [attr, decoder.decode(raw)]);
      } catch (err) {
        if (err instanceof DeserializationError) continue; // (not readable here: the server's corrections follow)
        throw err;
      }
      for (const [attr, value] of values) {
        if (model.attributes.has(attr) && samePulled(model.attributes.get(attr), value)) continue;
        result.push(new ModelChangedEvent(model, attr, undefined, value, setter));
        if (whole && laid !== null) laid.push(result[result.length - 1]);
        stack.push(...modelsIn(value));
      }
    }
  }
  return result;
}

/**
 * The RootAddedEvents of a defined model the server held elsewhere before them. The server
 * defines no model an earlier event of the same patch detached (protocol.md §9): it gives the
 * changes from such an attachment another position. So where a root added is removed again
 * in the patch and a later whole value (a correction) still reaches it, the removal detached
 * nothing: the server held the model elsewhere all along, the root added did not make it
 * anew, and the definition is that correction's, as the patch's end left it. Laid over right
 * after the root added, the patch's later changes of the model applied twice (child moves in
 * memory, seed 948610247: a client reaching it through a list left stale).
 */
function heldElsewhere(events, kept) {
  const added = new Map();
  const removed = new Map();
  const result = new Set();
  for (const event of events) {
    if (event instanceof RootAddedEvent) {
      if (kept.has(event.model.id)) added.set(event.model.id, event);
    } else if (event instanceof RootRemovedEvent) {
      if (added.has(event.model.id)) {
        removed.set(event.model.id, added.get(event.model.id));
        added.delete(event.model.id);
      }
    } else if (added.size > 0 || removed.size > 0) {
      const value = event instanceof ModelChangedEvent ? event.new : event.items;
      if (value === undefined) continue;
      for (const model of modelsIn(value)) {
        if (removed.has(model.id) && event instanceof ModelChangedEvent) {
          result.add(removed.get(model.id));
          removed.delete(model.id);
        }
        // Attached in a second place meanwhile: the removal may have detached nothing
        // because of that one; the root added may have made it anew (nothing said).
        added.delete(model.id);
      }
    }
  }
  return result;
}
