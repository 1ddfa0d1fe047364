// The periodic re-announcement of held addresses (a resource's `announceRefreshSec`): which are due,
// for routers and switches whose ARP caches outlive the gratuitous ARPs of a move (keepalived's
// garp_master_refresh; its issue 20: a router with a four-hour cache). Pure: the agent's Announcer
// passes what it holds and when each was last announced, and sends what comes back.
import type { ResourceName } from './model';

/**
 * At most this many addresses re-announced per pass (one pass a second): whatever the count and the
 * setting, a node sends a bounded burst — 10,000 addresses on a one-second refresh become 500 a second,
 * the most overdue first, instead of 10,000 at once.
 */
export const REFRESHES_PER_PASS = 500;

export interface RefreshCandidate {
  resource: ResourceName;
  /** The resource's refresh period (ms). */
  everyMs: number;
  /** When the address was last announced here (its first announcements, a defence, a refresh). */
  lastAnnouncedAt: number;
}

/** The candidates due at `now`, most overdue first, at most `budget`. */
export function dueRefreshes(candidates: Iterable<RefreshCandidate>, now: number, budget = REFRESHES_PER_PASS): ResourceName[] {
  if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`budget must be a whole number >= 0 (got ${budget})`);
  const due: Array<{ resource: ResourceName; late: number }> = [];
  for (const { resource, everyMs, lastAnnouncedAt } of candidates) {
    if (!(everyMs > 0)) continue;
    const late = now - (lastAnnouncedAt + everyMs);
    if (late >= 0) due.push({ resource, late });
  }
  // Ties by name: the same inputs give the same order.
  due.sort((a, b) => b.late - a.late || (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0));
  return due.slice(0, budget).map((d) => d.resource);
}
