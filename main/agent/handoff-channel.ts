// The last step of a planned move, sent straight to the target: "I have deregistered the address".
// Through the store alone that news costs a write and a watch delivery (several ms under load) during
// which nobody answers for the address; a datagram on the LAN costs well under one. The store still
// records every phase — the datagram only lets the target start early.
//
// Trust: the target put a fresh random nonce and its own address and port into the move's "prepared"
// record; a datagram counts only if it names that move, carries that nonce, only while the move is in
// that phase (the agent checks), and is signed by the owner. The nonce alone would be safe only while
// nobody else reads the store: anyone who can read etcd (a read-only user, a backup) could send it first
// and make the target register while the owner still answers. So each agent holds an Ed25519 key made
// at start (never stored), publishes its public half in its node record (`handoffKey`), and signs its
// notices; the target checks the signature against the record of the move's owner. Anything else —
// wrong size, not JSON, wrong fields, a bad signature — is dropped without a reply.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { NONCE_PATTERN, type HandoffNotify } from '../cluster/intents';
import type { ReleaseNotice } from '../cluster/move-machine';
import type { DatagramEndpoint, Host } from '../host/host';

/** The datagram's content: the move, the target's nonce, when the owner deregistered (wall-clock ms), and the owner's signature. */
export interface ReleasedNotice extends ReleaseNotice {
  /** Ed25519 over signedBytes(), base64url (86 characters). */
  signature: string;
}

const MAX_DATAGRAM_BYTES = 1024;
const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;
/** An Ed25519 public key as a node record carries it: the 32 raw bytes, base64url (JWK "x"). */
export const HANDOFF_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** What the owner signs: the datagram's fields, in a form no other message of ours has. */
function signedBytes(notice: ReleaseNotice): Buffer {
  return Buffer.from(`ipfo release v2\u0000${notice.id}\u0000${notice.nonce}\u0000${notice.releasedAt}`);
}

/** True when `notice` is signed by the holder of `publicKey` (a node record's handoffKey). Never throws. */
export function verifyReleasedNotice(publicKey: string, notice: ReleasedNotice): boolean {
  if (!HANDOFF_KEY_PATTERN.test(publicKey)) return false;
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
    return verify(null, signedBytes(notice), key, Buffer.from(notice.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** This agent's signing key for release notices: made at start, kept in memory only. */
export class HandoffIdentity {
  private readonly privateKey: KeyObject;
  /** The public half, as the node record carries it. */
  readonly publicKey: string;

  constructor() {
    const pair = generateKeyPairSync('ed25519');
    this.privateKey = pair.privateKey;
    const jwk = pair.publicKey.export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new Error('internal: an Ed25519 public key without x');
    this.publicKey = jwk.x;
  }

  sign(notice: ReleaseNotice): ReleasedNotice {
    return { ...notice, signature: sign(null, signedBytes(notice), this.privateKey).toString('base64url') };
  }
}

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
  const { v, id, nonce, releasedAt, signature, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || v !== 2) return null;
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) return null;
  if (typeof nonce !== 'string' || !NONCE_PATTERN.test(nonce)) return null;
  if (typeof releasedAt !== 'number' || !Number.isFinite(releasedAt) || releasedAt <= 0) return null;
  if (typeof signature !== 'string' || !SIGNATURE_PATTERN.test(signature)) return null;
  return { id, nonce, releasedAt, signature };
}

export function encodeReleasedNotice(notice: ReleasedNotice): Buffer {
  return Buffer.from(JSON.stringify({ v: 2, id: notice.id, nonce: notice.nonce, releasedAt: notice.releasedAt, signature: notice.signature }));
}

export class HandoffChannel {
  private constructor(
    private readonly endpoint: DatagramEndpoint,
    private readonly identity: HandoffIdentity,
  ) {}

  /** The public key peers check this node's notices with (its node record's handoffKey). */
  get publicKey(): string {
    return this.identity.publicKey;
  }

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
    return new HandoffChannel(endpoint, new HandoffIdentity());
  }

  /** What the target stores in its prepared intent. */
  notifyFor(address: string): HandoffNotify {
    return { address, port: this.port, nonce: randomBytes(16).toString('hex') };
  }

  /** Signs and sends the notice. */
  send(to: HandoffNotify, notice: ReleaseNotice): void {
    this.endpoint.send(encodeReleasedNotice(this.identity.sign(notice)), to.port, to.address);
  }

  close(): void {
    this.endpoint.close();
  }
}
