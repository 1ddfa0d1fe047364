// The planned moves an owner asks for (a drain, failbacks) go in waves: at most MOVES_IN_FLIGHT of its own
// moves are open at once, and each move that ends lets the next one start. Asked for all at once, a drain
// of 1,000 addresses made every node start 1,000 probes, store writes and registrations within a few turns
// of its event loop; on a 2-core host with two busy processes no lease timer ran for up to 2 s, the owner's
// addresses ran out in the kernel, and its standby revoked a node that was alive. Pure: the agent feeds
// what it wants and what is open.

/** An owner's planned moves open at once (drain, failback). */
export const MOVES_IN_FLIGHT = 64;

/**
 * The moves to ask for now, in the order wanted: those not already under way, as many as the window has
 * room for once `inFlight` of this owner's moves are open.
 */
export function nextWave<T extends { resource: string }>(wanted: readonly T[], inFlight: number, underWay: (resource: string) => boolean, window: number = MOVES_IN_FLIGHT): T[] {
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`move window must be a whole number >= 1, got ${window}`);
  const wave: T[] = [];
  for (const move of wanted) {
    if (wave.length >= window - inFlight) break;
    if (!underWay(move.resource)) wave.push(move);
  }
  return wave;
}

/**
 * The batches to ask for now: the wanted moves grouped by target, in the order wanted, at most `max` per
 * batch, none towards a target that already has a batch of this owner open (`openTargets`: the next
 * batch follows when that one ends), none for a resource already under way. A target with one move
 * wanted gets it as a single move (today's path: no batch of one). The moves of one group's members
 * (`groupOf`) to one target are never split: all go in one batch, or none while any is under way; a group
 * larger than the room left waits for the next batch.
 */
export function nextBatches<T extends { resource: string; to: string }>(
  wanted: readonly T[],
  openTargets: ReadonlySet<string>,
  underWay: (resource: string) => boolean,
  max: number,
  groupOf: (resource: string) => string | undefined = () => undefined,
): { batches: T[][]; singles: T[] } {
  if (!Number.isInteger(max) || max < 2) throw new RangeError(`batch size must be a whole number >= 2, got ${max}`);
  // Units in the order of their first move: a resource alone, or a group's moves to one target.
  const units: T[][] = [];
  const unitOfGroup = new Map<string, T[]>();
  for (const move of wanted) {
    const group = groupOf(move.resource);
    if (group === undefined) {
      units.push([move]);
      continue;
    }
    const key = `${move.to}\u0000${group}`;
    const unit = unitOfGroup.get(key);
    if (unit !== undefined) unit.push(move);
    else {
      const fresh = [move];
      unitOfGroup.set(key, fresh);
      units.push(fresh);
    }
  }
  // A group is at most MAX_GROUP_MEMBERS (32); one a hostile store record made larger than a batch is cut
  // into batches rather than left unmovable (a batch record beyond MAX_BATCH is refused by every reader).
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]!;
    if (unit.length > max) units.splice(i, 1, ...Array.from({ length: Math.ceil(unit.length / max) }, (_, k) => unit.slice(k * max, (k + 1) * max)));
  }
  const byTarget = new Map<string, T[]>();
  for (const unit of units) {
    const to = unit[0]!.to;
    if (openTargets.has(to) || unit.some((move) => underWay(move.resource))) continue;
    const batch = byTarget.get(to) ?? [];
    if (batch.length === 0 || batch.length + unit.length <= max) batch.push(...unit);
    byTarget.set(to, batch);
  }
  const batches: T[][] = [];
  const singles: T[] = [];
  for (const batch of byTarget.values()) {
    if (batch.length === 1) singles.push(batch[0]!);
    else if (batch.length > 1) batches.push(batch);
  }
  return { batches, singles };
}
