// The last step of a planned move, sent straight to the target: "I have deregistered the address".
// Through the store alone that news costs a write and a watch delivery (several ms under load) during
// which nobody answers for the address; a datagram on the LAN costs well under one. The store still
// records every phase — the datagram only lets the target start early.
//
// Trust: the target put a fresh random nonce and its own address and port into the move's "prepared"
// record, which only cluster members can read; a datagram counts only if it names that move and
// carries that nonce, and only while the move is in that phase (the agent checks). Anything else —
// wrong size, not JSON, wrong fields — is dropped without a reply.
import { randomBytes } from 'node:crypto';
import { NONCE_PATTERN, type HandoffNotify } from '../cluster/intents';
import type { ReleaseNotice } from '../cluster/move-machine';
import type { DatagramEndpoint, Host } from '../host/host';

/** The datagram's content: the move, the target's nonce, and when the owner deregistered (wall-clock ms). */
export type ReleasedNotice = ReleaseNotice;

const MAX_DATAGRAM_BYTES = 1024;

/** A notice from untrusted bytes, or null. Pure. */
export function parseReleasedNotice(bytes: Buffer): ReleasedNotice | null {
  if (bytes.length > MAX_DATAGRAM_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const { v, id, nonce, releasedAt, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || v !== 1) return null;
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) return null;
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return null;
  if (typeof releasedAt !== 'number' || !Number.isFinite(releasedAt) || releasedAt <= 0) return null;
  return { id, nonce, releasedAt };
}

export function encodeReleasedNotice(notice: ReleasedNotice): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, id: notice.id, nonce: notice.nonce, releasedAt: notice.releasedAt }));
}

export class HandoffChannel {
  private constructor(private readonly endpoint: DatagramEndpoint) {}

  get port(): number {
    return this.endpoint.port;
  }

  /** Listens on every IPv4 address of the host, on a port the host picks. */
  static async open(host: Host, onNotice: (notice: ReleasedNotice) => void, log: (line: string) => void): Promise<HandoffChannel> {
    const endpoint = await host.openDatagram(
      (bytes) => {
        const notice = parseReleasedNotice(bytes);
        if (notice) onNotice(notice);
      },
      (error) => log(`handoff channel: ${error.message}`),
    );
    return new HandoffChannel(endpoint);
  }

  /** What the target stores in its prepared intent. */
  notifyFor(address: string): HandoffNotify {
    return { address, port: this.port, nonce: randomBytes(16).toString('hex') };
  }

  send(to: HandoffNotify, notice: ReleasedNotice): void {
    this.endpoint.send(encodeReleasedNotice(notice), to.port, to.address);
  }

  close(): void {
    this.endpoint.close();
  }
}
