// How the watch groups ARP frames. Classification itself is the codec's (classifyArp), so
// the watch and conflict detection name every frame the same way.
import type { ArpKind } from '../arp/codec';

export const ARP_FRAME_KINDS: readonly ArpKind[] = ['probe', 'announcement', 'gratuitous-reply', 'request', 'reply'];

/** Frames that assert "this IP is mine" to the whole LAN or to an asker: replies and announcements. */
export function isClaim(kind: ArpKind): boolean {
  return kind === 'reply' || kind === 'gratuitous-reply' || kind === 'announcement';
}
