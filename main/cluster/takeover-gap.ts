// The gap clients saw in a takeover: from the last answer the old owner gave that its standby heard, to
// the new owner's announcement. The standby knows the first moment and says so in a silence intent
// (intents.ts) before it revokes the owner's lease; the node that takes the address knows the second.
// Both are wall-clock times, from two hosts: the figure is as good as their clocks agree (NTP keeps
// them within a few ms on a LAN; in the lab they share one clock).
import { SILENCE_EVIDENCE_MS, type SilenceIntent } from './intents';

/** A takeover's client-visible gap, ms (2 decimals); null when no standby's evidence covers it. */
export function takeoverGapMs(evidence: SilenceIntent | undefined, announcedAt: number): number | null {
  if (evidence === undefined || evidence.lastHeardAt === null) return null;
  // Evidence of an older silence of the same node (it came back and died again unwatched) says nothing.
  if (announcedAt - evidence.createdAt > SILENCE_EVIDENCE_MS || announcedAt < evidence.lastHeardAt - SILENCE_EVIDENCE_MS) return null;
  return Math.round(Math.max(0, announcedAt - evidence.lastHeardAt) * 100) / 100;
}

/** The audit detail's words for the gap. */
export function describeTakeoverGap(from: string, gapMs: number | null): string {
  return gapMs === null ? `from ${from} (gap unknown: no standby heard its last answer)` : `from ${from}, ${gapMs} ms after its last answer`;
}
