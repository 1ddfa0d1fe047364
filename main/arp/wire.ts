// The Ethernet layer and the byte handling that the ARP codec (arp/codec.ts) and the IPv6 neighbour
// discovery codec (nd/codec.ts) share: the decode window, bounds checks, the one optional 802.1Q tag,
// and the encoder's copy into the caller's buffer. Each codec keeps its own error class; these
// helpers raise it through the `fail` function it passes, so a caller catches one class per codec.
import { ETHERTYPE_VLAN } from './frame';

/** The failures every codec has; each codec's error code union includes them. */
export type WireErrorCode = 'TRUNCATED' | 'STACKED_VLAN' | 'BAD_OFFSET' | 'BAD_BUFFER' | 'BUFFER_TOO_SMALL' | 'BAD_VLAN';

/** Builds the calling codec's error. */
export type WireFailure = (code: WireErrorCode, message: string, byteOffset: number | null) => Error;

/** What each codec's error class is: a code to count and branch on, and where in the bytes it went wrong. */
export class FrameCodecError<Code extends string> extends Error {
  readonly code: Code;
  /** Byte offset in the buffer where the problem is, when there is one. */
  readonly byteOffset: number | null;

  constructor(code: Code, message: string, byteOffset: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.byteOffset = byteOffset;
  }
}

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const MAX_VLAN_ID = 4095;
const VLAN_ID_MASK = 0x0fff;
/** Tag protocol ids that mean "another tag follows": 802.1Q, 802.1ad, legacy QinQ. */
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_LEGACY = 0x9100;

export function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

export function readU16(buf: Uint8Array, at: number): number {
  // Callers have checked that at+1 is inside the allowed range.
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

export function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value & 0xff;
}

/** A short, safe rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return `a value of type ${typeof value}`;
}

/** The end of the frame in `buf[offset, offset + length)`, after checking the caller's arguments. */
function decodeWindowEnd(buf: Uint8Array, offset: number, length: number | undefined, fail: WireFailure): number {
  if (!(buf instanceof Uint8Array)) throw fail('BAD_BUFFER', 'cannot decode: expected a Buffer or Uint8Array', null);
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw fail('BAD_OFFSET', `cannot decode: offset ${String(offset)} is outside the ${buf.length}-byte buffer`, null);
  }
  const available = buf.length - offset;
  const frameLength = length ?? available;
  if (!Number.isInteger(frameLength) || frameLength < 0 || frameLength > available) {
    throw fail(
      'BAD_OFFSET',
      `cannot decode: length ${String(length)} from byte ${offset} runs outside the ${buf.length}-byte buffer`,
      offset,
    );
  }
  return offset + frameLength;
}

export function requireBytes(buf: Uint8Array, start: number, count: number, end: number, what: string, fail: WireFailure): void {
  if (end - start < count) {
    const available = Math.max(0, end - start);
    throw fail(
      'TRUNCATED',
      `truncated frame: the ${what} at byte ${start} needs ${count} bytes, only ${available} available` +
        ` (frame ends at byte ${end} of a ${buf.length}-byte buffer)`,
      start,
    );
  }
}

function isStackedTag(ethertype: number): boolean {
  return ethertype === ETHERTYPE_VLAN || ethertype === ETHERTYPE_QINQ || ethertype === ETHERTYPE_QINQ_LEGACY;
}

interface EthernetHeader {
  /** 802.1Q VLAN id, or null for an untagged frame. */
  vlan: number | null;
  ethertype: number;
  /** Where the ethertype that names the payload is: 12, or 16 behind a tag (relative to the buffer). */
  ethertypeAt: number;
}

/** The Ethernet header at `offset`, behind at most one 802.1Q tag; the payload starts at ethertypeAt + 2. */
function decodeEthernetHeader(buf: Uint8Array, offset: number, end: number, fail: WireFailure): EthernetHeader {
  requireBytes(buf, offset, ETHERNET_HEADER_LENGTH, end, 'Ethernet header', fail);
  let ethertypeAt = offset + 12;
  let ethertype = readU16(buf, ethertypeAt);
  let vlan: number | null = null;
  if (ethertype === ETHERTYPE_VLAN) {
    requireBytes(buf, offset, ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH, end, 'Ethernet header with 802.1Q tag', fail);
    // Priority and DEI bits are ignored: only the VLAN id identifies the LAN.
    vlan = readU16(buf, offset + 14) & VLAN_ID_MASK;
    ethertypeAt = offset + 16;
    ethertype = readU16(buf, ethertypeAt);
    if (isStackedTag(ethertype)) {
      throw fail(
        'STACKED_VLAN',
        `unsupported frame: a second VLAN tag (${hex16(ethertype)}) at byte ${ethertypeAt}; only one 802.1Q tag is decoded`,
        ethertypeAt,
      );
    }
  }
  return { vlan, ethertype, ethertypeAt };
}

export interface EthernetPayload {
  /** Where the frame ends: offset + length. */
  end: number;
  vlan: number | null;
  /** Where the payload named by the ethertype starts. */
  payloadAt: number;
}

/** What a codec decodes: the ethertype, its name for messages, and the error for any other ethertype. */
export interface ExpectedPayload {
  ethertype: number;
  name: string;
  wrongEthertype: (message: string, byteOffset: number) => Error;
}

/** Checks decode's arguments and the Ethernet header of `buf[offset, offset + length)`, which must carry `expected`. */
export function decodeEthernetPayload(
  buf: Uint8Array,
  offset: number,
  length: number | undefined,
  expected: ExpectedPayload,
  fail: WireFailure,
): EthernetPayload {
  const end = decodeWindowEnd(buf, offset, length, fail);
  const { vlan, ethertype, ethertypeAt } = decodeEthernetHeader(buf, offset, end, fail);
  if (ethertype !== expected.ethertype) {
    const wanted = `${expected.name} is ${hex16(expected.ethertype)}`;
    throw expected.wrongEthertype(`not an ${expected.name} frame: ethertype ${hex16(ethertype)} at byte ${ethertypeAt} (${wanted})`, ethertypeAt);
  }
  return { end, vlan, payloadAt: ethertypeAt + 2 };
}

export function checkVlan(vlan: unknown, fail: WireFailure): void {
  if (vlan === null) return;
  if (typeof vlan !== 'number' || !Number.isInteger(vlan) || vlan < 0 || vlan > MAX_VLAN_ID) {
    throw fail('BAD_VLAN', `cannot encode vlan: ${describeValue(vlan)} is not null or an integer 0..${MAX_VLAN_ID}`, null);
  }
}

/** Writes the ethertype (behind a tag with PCP 0, DEI 0 when vlan is set); returns where the payload starts. */
export function writeEthertype(buf: Uint8Array, vlan: number | null, ethertype: number): number {
  let ethertypeAt = 12;
  if (vlan !== null) {
    writeU16(buf, 12, ETHERTYPE_VLAN);
    writeU16(buf, 14, vlan);
    ethertypeAt = 16;
  }
  writeU16(buf, ethertypeAt, ethertype);
  return ethertypeAt + 2;
}

/** Checks encode's `buf` and `offset` before any work, so a bad call fails the same whatever the frame. */
export function checkEncodeTarget(buf: Uint8Array | undefined, offset: number, fail: WireFailure): void {
  if (buf !== undefined && !(buf instanceof Uint8Array)) {
    throw fail('BAD_BUFFER', 'cannot encode: expected a Buffer or Uint8Array to write into', null);
  }
  const limit = buf === undefined ? Number.MAX_SAFE_INTEGER : buf.length;
  if (!Number.isInteger(offset) || offset < 0 || offset > limit) {
    const size = buf === undefined ? 'new' : `${limit}-byte`;
    throw fail('BAD_OFFSET', `cannot encode: offset ${String(offset)} is outside the ${size} buffer`, null);
  }
}

/**
 * Copies the `length` encoded bytes of `scratch` into `buf` at `offset` (a new zeroed buffer of
 * offset + length bytes without `buf`) and returns it; the codecs encode into scratch first so that a
 * frame failing validation halfway leaves the caller's buffer untouched.
 */
export function placeEncoded(scratch: Uint8Array, length: number, buf: Buffer | undefined, offset: number, fail: WireFailure): Buffer {
  const target = buf ?? Buffer.alloc(offset + length);
  if (target.length - offset < length) {
    throw fail(
      'BUFFER_TOO_SMALL',
      `cannot encode: the frame needs ${length} bytes from byte ${offset}, the buffer has ${target.length - offset}`,
      offset,
    );
  }
  target.set(scratch.subarray(0, length), offset);
  return target;
}
