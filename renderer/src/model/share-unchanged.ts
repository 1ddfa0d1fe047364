// A resource as the stream sends it again: a whole new object tree from JSON.parse, of which most
// parts (its spec, its owner lists, its name and address strings) equal the version the console
// already holds. Kept as they arrive, all of those become long-lived copies that the young-generation
// collections copy and promote (at 100,000 resources under 1,000 changes a second, collections of
// 6-18 ms every few seconds). Here the parts that are equal are taken from the
// earlier version, so only what changed outlives the message; equal parts also keep their identity,
// which React's memo compares. Pure: neither argument is modified.

/** Deeper than any record of the contract: beyond it, values are kept as they arrived. */
const MAX_DEPTH = 8;

/**
 * `next` with every part that is deep-equal to the same part of `previous` replaced by that part of
 * `previous`; `previous` itself when the two are deep-equal. Only plain objects and arrays are
 * descended into (what JSON.parse makes).
 */
export function shareUnchanged<T>(previous: T, next: T): T {
  return share(previous, next, 0) as T;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function share(previous: unknown, next: unknown, depth: number): unknown {
  // Equal primitives (strings compare by content): the earlier one, so the new one is garbage at once.
  if (previous === next) return previous;
  if (typeof previous !== 'object' || typeof next !== 'object' || previous === null || next === null || depth >= MAX_DEPTH) return next;
  if (Array.isArray(next)) return Array.isArray(previous) ? shareArray(previous, next, depth) : next;
  if (Array.isArray(previous) || !isPlainObject(next) || !isPlainObject(previous)) return next;
  return shareObject(previous, next, depth);
}

function shareArray(previous: readonly unknown[], next: readonly unknown[], depth: number): unknown[] {
  let same = previous.length === next.length;
  const shared = new Array<unknown>(next.length);
  for (let i = 0; i < next.length; i++) {
    const value = i < previous.length ? share(previous[i], next[i], depth + 1) : next[i];
    if (value !== previous[i] || i >= previous.length) same = false;
    shared[i] = value;
  }
  return same ? (previous as unknown[]) : shared;
}

function shareObject(previous: Record<string, unknown>, next: Record<string, unknown>, depth: number): Record<string, unknown> {
  // An own "__proto__" (JSON.parse makes one) would set the copy's prototype when written: kept as it came.
  if (Object.hasOwn(next, '__proto__')) return next;
  const keys = Object.keys(next);
  let same = keys.length === Object.keys(previous).length;
  // A clone of `next`, not {} filled key by key: it keeps next's layout (fields inside the object, no
  // separate property array), so a changed record costs one object, not two.
  const shared: Record<string, unknown> = { ...next };
  for (const key of keys) {
    const had = Object.hasOwn(previous, key);
    const value = had ? share(previous[key], next[key], depth + 1) : next[key];
    if (!had || value !== previous[key]) same = false;
    shared[key] = value;
  }
  return same ? previous : shared;
}
