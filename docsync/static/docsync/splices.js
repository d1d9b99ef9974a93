/**
 * Two splices of one list made at the same time: where each goes once the other is
 * applied; the mirror of docsync/sync/splices.py.
 *
 * A splice is {index, delete, count}: ``delete`` items at ``index`` replaced by ``count``
 * new ones. ``first`` is the one applied first (the earlier in the server's order).
 * transform(first, second) returns [first after second, second after first], so that
 * both orders give the same list, or null when the two really touch the same items: their
 * deleted ranges share an item, or one inserts strictly inside the range the other
 * deletes. Two insertions at the same place: ``first``'s items come first. An insertion
 * at either end of a deleted range is not inside it: at its start it goes before the
 * replacement, at its end after it.
 */

/** Build a splice. */
export function splice(index, deleteCount, count) {
  return { index, delete: deleteCount, count };
}

/** Tell whether two splices made on the same list touch the same items. */
export function conflicts(a, b) {
  if (a.delete && b.delete) return Math.max(a.index, b.index) < Math.min(a.index + a.delete, b.index + b.delete);
  if (!a.delete && b.delete) return b.index < a.index && a.index < b.index + b.delete;
  if (a.delete && !b.delete) return a.index < b.index && b.index < a.index + a.delete;
  return false;
}

/** Return [first after second, second after first], or null if they conflict. */
export function transform(first, second) {
  if (conflicts(first, second)) return null;
  const { index: i, delete: d, count: n } = first;
  const { index: j, delete: e, count: m } = second;
  // Two insertions at one place: the first applied comes first.
  if (d === 0 && e === 0 && i === j) return [first, splice(j + n, e, m)];
  if (i + d <= j) return [first, splice(j - d + n, e, m)]; // first is wholly before second
  return [splice(i - e + m, d, n), second]; // second is wholly before first
}
