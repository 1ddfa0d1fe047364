// A memo in front of the codec's decode for the watch's hot path. The frames on a LAN repeat byte for
// byte (a station asks for its gateway, answers the same asker, announces the same address), so the
// watch decodes a frame once and reuses the result for every identical one: the same ArpFrame object
// and the same MAC / IPv4 strings. That spares decode's six strings and three objects per frame, and
// lets the tracker's Map lookups and MAC comparisons hit strings whose hash V8 already knows.
//
// Exact by construction: decode reads at most the first KEY_BYTES bytes of a frame at least KEY_BYTES
// long (Ethernet header, one 802.1Q tag, 28-byte ARP packet), so two such frames equal in those bytes
// decode to equal results. A hit is confirmed by comparing the bytes, not only their hash. Shorter
// frames, and frames decode rejects, always go to decode (malformed frames are counted by the caller).
// Cached frames are frozen: every consumer gets the same object.
import { decode } from '../arp/codec';
import type { ArpFrame } from '../arp/frame';

/** Ethernet header (14) + 802.1Q tag (4) + ARP packet (28). */
export const KEY_BYTES = 46;

interface Entry {
  readonly bytes: Buffer;
  readonly frame: ArpFrame;
}

function freeze(frame: ArpFrame): ArpFrame {
  Object.freeze(frame.arp);
  return Object.freeze(frame);
}

export class DecodedFrameCache {
  private readonly entries = new Map<number, Entry>();
  hits = 0;
  misses = 0;

  /** @param maxEntries distinct frames kept; when full the cache starts over (a flood of unique frames just misses). */
  constructor(private readonly maxEntries = 16_384) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Same result as codec.decode(buf, offset, length) (the same errors too), from the memo when it can. */
  readonly decode = (buf: Buffer, offset: number, length: number): ArpFrame => {
    if (length < KEY_BYTES || offset < 0 || offset + length > buf.length) return decode(buf, offset, length);
    // A hash of the bytes that vary most (source MAC, ARP op and addresses; tagged or not); the compare
    // below checks all KEY_BYTES, so the hash only has to spread, not to cover.
    let hash = buf.readInt32LE(offset + 8);
    for (let at = offset + 18; at < offset + KEY_BYTES - 3; at += 4) hash = Math.imul(hash ^ buf.readInt32LE(at), 0x01000193);
    const entry = this.entries.get(hash);
    if (entry !== undefined && buf.compare(entry.bytes, 0, KEY_BYTES, offset, offset + KEY_BYTES) === 0) {
      this.hits++;
      return entry.frame;
    }
    this.misses++;
    const frame = freeze(decode(buf, offset, length));
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(hash, { bytes: Buffer.from(buf.subarray(offset, offset + KEY_BYTES)), frame });
    return frame;
  };
}
