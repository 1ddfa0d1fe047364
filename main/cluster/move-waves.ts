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
