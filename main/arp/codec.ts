// Ethernet II + ARP (RFC 826) for IPv4 over Ethernet only: htype 1, ptype 0x0800,
// hlen 6, plen 4, op 1 (request) or 2 (reply), optionally behind one 802.1Q tag.
// The API follows dns-packet: encode / decode / encodingLength.
//
// decode reads bytes straight off the wire (the ARP monitor sees every ARP frame on
// the LAN, ~100k/s at worst), so it trusts nothing: every read is bounds-checked
// against offset/length first, and every failure is an ArpCodecError that names the
// problem and the byte offset. It never reads past `offset + length` and ignores
// anything after the ARP packet (Ethernet padding, FCS, trailer junk).
//
// Frame sizes: an untagged frame is padded with zeros to 60 bytes (the Ethernet
// minimum without FCS). A tagged frame is padded to 64 bytes, so that a switch that
// strips the tag on an access port is left with a full 60-byte frame even if it does
// not re-pad; the 4 extra bytes cost nothing.

import {
  AddressError,
  canonicalIpv4,
  canonicalMac,
  formatIpv4Bytes,
  formatMac,
  parseIpv4,
  writeMac,
} from './addresses';
import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_VLAN,
  ZERO_IP,
  ZERO_MAC,
  type ArpFrame,
  type ArpOp,
  type ArpPacket,
  type Ipv4,
  type Mac,
} from './frame';

export type ArpCodecErrorCode =
  | 'TRUNCATED'
  | 'NOT_ARP'
  | 'STACKED_VLAN'
  | 'BAD_HTYPE'
  | 'BAD_PTYPE'
  | 'BAD_HLEN'
  | 'BAD_PLEN'
  | 'BAD_OP'
  | 'BAD_OFFSET'
  | 'BAD_BUFFER'
  | 'BAD_FRAME'
  | 'BAD_MAC'
  | 'BAD_IPV4'
  | 'BAD_VLAN'
  | 'BUFFER_TOO_SMALL';

export class ArpCodecError extends Error {
  readonly code: ArpCodecErrorCode;
  /** Byte offset in the buffer where the problem is, when there is one. */
  readonly byteOffset: number | null;

  constructor(code: ArpCodecErrorCode, message: string, byteOffset: number | null = null, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ArpCodecError';
    this.code = code;
    this.byteOffset = byteOffset;
  }
}

export const ETHERNET_HEADER_LENGTH = 14;
export const VLAN_TAG_LENGTH = 4;
export const ARP_PACKET_LENGTH = 28;
/** Ethernet minimum frame length without the 4-byte FCS. */
export const MIN_FRAME_LENGTH = 60;
export const MIN_TAGGED_FRAME_LENGTH = MIN_FRAME_LENGTH + VLAN_TAG_LENGTH;

export const HTYPE_ETHERNET = 1;
export const PTYPE_IPV4 = 0x0800;
const HLEN_ETHERNET = 6;
const PLEN_IPV4 = 4;
const OP_REQUEST = 1;
const OP_REPLY = 2;
const MAX_VLAN_ID = 4095;
const VLAN_ID_MASK = 0x0fff;
/** Tag protocol ids that mean "another tag follows": 802.1Q, 802.1ad, legacy QinQ. */
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_LEGACY = 0x9100;

// Offsets inside the 28-byte ARP packet.
const ARP_HTYPE = 0;
const ARP_PTYPE = 2;
const ARP_HLEN = 4;
const ARP_PLEN = 5;
const ARP_OP = 6;
const ARP_FIXED_HEADER_LENGTH = 8;
const ARP_SENDER_MAC = 8;
const ARP_SENDER_IP = 14;
const ARP_TARGET_MAC = 18;
const ARP_TARGET_IP = 24;

function hex16(value: number): string {
  return `0x${value.toString(16).padStart(4, '0')}`;
}

function readU16(buf: Uint8Array, at: number): number {
  // Callers have checked that at+1 is inside the allowed range.
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value & 0xff;
}

function requireBytes(buf: Uint8Array, start: number, count: number, end: number, what: string): void {
  if (end - start < count) {
    const available = Math.max(0, end - start);
    throw new ArpCodecError(
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

/**
 * Decodes one Ethernet frame carrying ARP for IPv4 from `buf[offset, offset + length)`.
 * `length` defaults to the rest of the buffer.
 */
export function decode(buf: Uint8Array, offset = 0, length?: number): ArpFrame {
  if (!(buf instanceof Uint8Array)) {
    throw new ArpCodecError('BAD_BUFFER', 'cannot decode: expected a Buffer or Uint8Array');
  }
  if (!Number.isInteger(offset) || offset < 0 || offset > buf.length) {
    throw new ArpCodecError('BAD_OFFSET', `cannot decode: offset ${String(offset)} is outside the ${buf.length}-byte buffer`);
  }
  const available = buf.length - offset;
  const frameLength = length ?? available;
  if (!Number.isInteger(frameLength) || frameLength < 0 || frameLength > available) {
    throw new ArpCodecError(
      'BAD_OFFSET',
      `cannot decode: length ${String(length)} from byte ${offset} runs outside the ${buf.length}-byte buffer`,
      offset,
    );
  }
  const end = offset + frameLength;

  requireBytes(buf, offset, ETHERNET_HEADER_LENGTH, end, 'Ethernet header');
  let ethertypeAt = offset + 12;
  let ethertype = readU16(buf, ethertypeAt);
  let vlan: number | null = null;
  if (ethertype === ETHERTYPE_VLAN) {
    requireBytes(buf, offset, ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH, end, 'Ethernet header with 802.1Q tag');
    // Priority and DEI bits are ignored: only the VLAN id identifies the LAN.
    vlan = readU16(buf, offset + 14) & VLAN_ID_MASK;
    ethertypeAt = offset + 16;
    ethertype = readU16(buf, ethertypeAt);
    if (isStackedTag(ethertype)) {
      throw new ArpCodecError(
        'STACKED_VLAN',
        `unsupported frame: a second VLAN tag (${hex16(ethertype)}) at byte ${ethertypeAt}; only one 802.1Q tag is decoded`,
        ethertypeAt,
      );
    }
  }
  if (ethertype !== ETHERTYPE_ARP) {
    throw new ArpCodecError(
      'NOT_ARP',
      `not an ARP frame: ethertype ${hex16(ethertype)} at byte ${ethertypeAt} (ARP is ${hex16(ETHERTYPE_ARP)})`,
      ethertypeAt,
    );
  }

  const arpAt = ethertypeAt + 2;
  requireBytes(buf, arpAt, ARP_FIXED_HEADER_LENGTH, end, 'ARP header');
  const htype = readU16(buf, arpAt + ARP_HTYPE);
  if (htype !== HTYPE_ETHERNET) {
    throw new ArpCodecError(
      'BAD_HTYPE',
      `unsupported ARP: hardware type ${htype} at byte ${arpAt + ARP_HTYPE} (only Ethernet, 1, is supported)`,
      arpAt + ARP_HTYPE,
    );
  }
  const ptype = readU16(buf, arpAt + ARP_PTYPE);
  if (ptype !== PTYPE_IPV4) {
    throw new ArpCodecError(
      'BAD_PTYPE',
      `unsupported ARP: protocol type ${hex16(ptype)} at byte ${arpAt + ARP_PTYPE} (only IPv4, 0x0800, is supported)`,
      arpAt + ARP_PTYPE,
    );
  }
  const hlen = buf[arpAt + ARP_HLEN] as number;
  if (hlen !== HLEN_ETHERNET) {
    throw new ArpCodecError(
      'BAD_HLEN',
      `malformed ARP: hardware address length ${hlen} at byte ${arpAt + ARP_HLEN} (Ethernet is 6)`,
      arpAt + ARP_HLEN,
    );
  }
  const plen = buf[arpAt + ARP_PLEN] as number;
  if (plen !== PLEN_IPV4) {
    throw new ArpCodecError(
      'BAD_PLEN',
      `malformed ARP: protocol address length ${plen} at byte ${arpAt + ARP_PLEN} (IPv4 is 4)`,
      arpAt + ARP_PLEN,
    );
  }
  const opcode = readU16(buf, arpAt + ARP_OP);
  if (opcode !== OP_REQUEST && opcode !== OP_REPLY) {
    throw new ArpCodecError(
      'BAD_OP',
      `unsupported ARP: operation ${opcode} at byte ${arpAt + ARP_OP} (only request 1 and reply 2)`,
      arpAt + ARP_OP,
    );
  }
  requireBytes(buf, arpAt, ARP_PACKET_LENGTH, end, 'ARP packet');

  return {
    dst: formatMac(buf, offset),
    src: formatMac(buf, offset + 6),
    vlan,
    arp: {
      op: opcode === OP_REQUEST ? 'request' : 'reply',
      senderMac: formatMac(buf, arpAt + ARP_SENDER_MAC),
      senderIp: formatIpv4Bytes(buf, arpAt + ARP_SENDER_IP),
      targetMac: formatMac(buf, arpAt + ARP_TARGET_MAC),
      targetIp: formatIpv4Bytes(buf, arpAt + ARP_TARGET_IP),
    },
  };
}

/** Bytes that encode(frame) writes, padding included. */
export function encodingLength(frame: ArpFrame): number {
  return frame.vlan !== null ? MIN_TAGGED_FRAME_LENGTH : MIN_FRAME_LENGTH;
}

// encode builds the frame here first, so a frame that fails validation halfway
// leaves the caller's buffer untouched.
const encodeScratch = new Uint8Array(MIN_TAGGED_FRAME_LENGTH);

/** Runs an address parse, re-raising its AddressError as the codec's own error, prefixed with `context`. */
function parsingAddress<T>(context: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AddressError) {
      // Only MAC and IPv4 parsing happen here; there is no prefix or CIDR in a frame.
      const code = error.code === 'BAD_MAC' ? 'BAD_MAC' : 'BAD_IPV4';
      throw new ArpCodecError(code, `${context}: ${error.message}`, null, { cause: error });
    }
    throw error;
  }
}

function putMac(text: Mac, field: string, at: number): void {
  parsingAddress(`cannot encode ${field}`, () => writeMac(text, encodeScratch, at));
}

function putIpv4(text: Ipv4, field: string, at: number): void {
  const value = parsingAddress(`cannot encode ${field}`, () => parseIpv4(text));
  encodeScratch[at] = value >>> 24;
  encodeScratch[at + 1] = (value >>> 16) & 0xff;
  encodeScratch[at + 2] = (value >>> 8) & 0xff;
  encodeScratch[at + 3] = value & 0xff;
}

/** A short, safe rendering of a bad value for an error message. */
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 32 ? `${value.slice(0, 32)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return `a value of type ${typeof value}`;
}

function opcodeOf(op: ArpOp): number {
  if (op === 'request') return OP_REQUEST;
  if (op === 'reply') return OP_REPLY;
  throw new ArpCodecError('BAD_OP', `cannot encode arp.op: ${describeValue(op)} is not "request" or "reply"`);
}

function checkVlan(vlan: unknown): void {
  if (vlan === null) return;
  if (typeof vlan !== 'number' || !Number.isInteger(vlan) || vlan < 0 || vlan > MAX_VLAN_ID) {
    throw new ArpCodecError('BAD_VLAN', `cannot encode vlan: ${describeValue(vlan)} is not null or an integer 0..${MAX_VLAN_ID}`);
  }
}

/** Writes the frame into the scratch buffer; returns its length. */
function encodeIntoScratch(frame: ArpFrame): number {
  if (typeof frame !== 'object' || frame === null || typeof frame.arp !== 'object' || frame.arp === null) {
    throw new ArpCodecError('BAD_FRAME', 'cannot encode: expected a frame object with an arp packet');
  }
  checkVlan(frame.vlan);
  const length = encodingLength(frame);
  const arp = frame.arp;
  encodeScratch.fill(0);
  putMac(frame.dst, 'dst', 0);
  putMac(frame.src, 'src', 6);
  let ethertypeAt = 12;
  if (frame.vlan !== null) {
    writeU16(encodeScratch, 12, ETHERTYPE_VLAN);
    writeU16(encodeScratch, 14, frame.vlan); // PCP 0, DEI 0
    ethertypeAt = 16;
  }
  writeU16(encodeScratch, ethertypeAt, ETHERTYPE_ARP);
  const arpAt = ethertypeAt + 2;
  writeU16(encodeScratch, arpAt + ARP_HTYPE, HTYPE_ETHERNET);
  writeU16(encodeScratch, arpAt + ARP_PTYPE, PTYPE_IPV4);
  encodeScratch[arpAt + ARP_HLEN] = HLEN_ETHERNET;
  encodeScratch[arpAt + ARP_PLEN] = PLEN_IPV4;
  writeU16(encodeScratch, arpAt + ARP_OP, opcodeOf(arp.op));
  putMac(arp.senderMac, 'arp.senderMac', arpAt + ARP_SENDER_MAC);
  putIpv4(arp.senderIp, 'arp.senderIp', arpAt + ARP_SENDER_IP);
  putMac(arp.targetMac, 'arp.targetMac', arpAt + ARP_TARGET_MAC);
  putIpv4(arp.targetIp, 'arp.targetIp', arpAt + ARP_TARGET_IP);
  return length;
}

/**
 * Encodes `frame` into `buf` at `offset` (padding included, see encodingLength) and
 * returns `buf`. Without `buf`, returns a new zeroed buffer of offset + encodingLength
 * bytes with the frame at `offset`.
 */
export function encode(frame: ArpFrame, buf?: Buffer, offset = 0): Buffer {
  if (buf !== undefined && !(buf instanceof Uint8Array)) {
    throw new ArpCodecError('BAD_BUFFER', 'cannot encode: expected a Buffer or Uint8Array to write into');
  }
  const limit = buf === undefined ? Number.MAX_SAFE_INTEGER : buf.length;
  if (!Number.isInteger(offset) || offset < 0 || offset > limit) {
    throw new ArpCodecError(
      'BAD_OFFSET',
      `cannot encode: offset ${String(offset)} is outside the ${buf === undefined ? 'new' : `${limit}-byte`} buffer`,
    );
  }
  const length = encodeIntoScratch(frame);
  const target = buf ?? Buffer.alloc(offset + length);
  if (target.length - offset < length) {
    throw new ArpCodecError(
      'BUFFER_TOO_SMALL',
      `cannot encode: the frame needs ${length} bytes from byte ${offset}, the buffer has ${target.length - offset}`,
      offset,
    );
  }
  target.set(encodeScratch.subarray(0, length), offset);
  return target;
}

// Builders for the frames the product sends. They canonicalize their inputs, so the
// frames they return compare equal to what decode returns for the same bytes.

function canonical<T extends string>(canonicalize: (text: T) => T, text: T, field: string): T {
  return parsingAddress(field, () => canonicalize(text));
}

function frameOf(dst: Mac, src: Mac, arp: ArpPacket): ArpFrame {
  return { dst, src, vlan: null, arp };
}

/** RFC 5227 §2.1.1 probe: "who has targetIp?" from 0.0.0.0, so no cache learns anything. */
export function probe(ownMac: Mac, targetIp: Ipv4): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'probe ownMac');
  const ip = canonical(canonicalIpv4, targetIp, 'probe targetIp');
  return frameOf(BROADCAST_MAC, mac, { op: 'request', senderMac: mac, senderIp: ZERO_IP, targetMac: ZERO_MAC, targetIp: ip });
}

/**
 * A probe that asks rather than claims: sender IP 0.0.0.0 like an RFC 5227 probe, so no cache learns
 * anything and the holder's kernel answers it the same, but target MAC ff:ff:ff:ff:ff:ff where RFC 5227
 * has zeros ("ignored, SHOULD be set to all zeroes"). A cluster node asks who holds an address this way
 * (a standby watching the owner, a move's pre-flight) and its peers, which know the mark, can tell it
 * from the probe of a node about to register the address (isQuestion).
 */
export function question(ownMac: Mac, targetIp: Ipv4): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'question ownMac');
  const ip = canonical(canonicalIpv4, targetIp, 'question targetIp');
  return frameOf(BROADCAST_MAC, mac, { op: 'request', senderMac: mac, senderIp: ZERO_IP, targetMac: BROADCAST_MAC, targetIp: ip });
}

/** A probe marked as a question (see question()): an RFC 5227 probe's target MAC is zero. */
export function isQuestion(arp: ArpPacket): boolean {
  return arp.op === 'request' && arp.senderIp === ZERO_IP && arp.targetMac === BROADCAST_MAC;
}

/** RFC 5227 §2.3 announcement: a broadcast request with sender IP = target IP = ip. */
export function announcement(ownMac: Mac, ip: Ipv4): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'announcement ownMac');
  const address = canonical(canonicalIpv4, ip, 'announcement ip');
  return frameOf(BROADCAST_MAC, mac, { op: 'request', senderMac: mac, senderIp: address, targetMac: ZERO_MAC, targetIp: address });
}

/**
 * Gratuitous ARP reply. The target MAC is our own MAC: during its locktime Linux only
 * accepts a gratuitous reply whose target MAC equals its sender MAC.
 */
export function gratuitousReply(ownMac: Mac, ip: Ipv4, dst: Mac = BROADCAST_MAC): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'gratuitousReply ownMac');
  const address = canonical(canonicalIpv4, ip, 'gratuitousReply ip');
  const to = canonical(canonicalMac, dst, 'gratuitousReply dst');
  return frameOf(to, mac, { op: 'reply', senderMac: mac, senderIp: address, targetMac: mac, targetIp: address });
}

/** Ordinary broadcast request: "who has targetIp? tell ownIp". */
export function request(ownMac: Mac, ownIp: Ipv4, targetIp: Ipv4): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'request ownMac');
  const from = canonical(canonicalIpv4, ownIp, 'request ownIp');
  const to = canonical(canonicalIpv4, targetIp, 'request targetIp');
  return frameOf(BROADCAST_MAC, mac, { op: 'request', senderMac: mac, senderIp: from, targetMac: ZERO_MAC, targetIp: to });
}

/** Unicast reply to one station: "ownIp is at ownMac". */
export function reply(ownMac: Mac, ownIp: Ipv4, toMac: Mac, toIp: Ipv4): ArpFrame {
  const mac = canonical(canonicalMac, ownMac, 'reply ownMac');
  const from = canonical(canonicalIpv4, ownIp, 'reply ownIp');
  const peerMac = canonical(canonicalMac, toMac, 'reply toMac');
  const peerIp = canonical(canonicalIpv4, toIp, 'reply toIp');
  return frameOf(peerMac, mac, { op: 'reply', senderMac: mac, senderIp: from, targetMac: peerMac, targetIp: peerIp });
}

/** What an ARP packet means in RFC 5227 terms, judged from its addresses alone. */
export type ArpKind =
  /** Request with sender IP 0.0.0.0: a station checking whether targetIp is free (RFC 5227 §2.1.1). */
  | 'probe'
  /** Request with sender IP = target IP: a gratuitous ARP request (RFC 5227 §2.3). */
  | 'announcement'
  /** Reply with sender IP = target IP: the gratuitous ARP reply some stacks send. */
  | 'gratuitous-reply'
  | 'request'
  | 'reply';

/**
 * The one classifier: conflict detection (arp/acd.ts) and the ARP watch both use it, so a
 * frame is named the same in every log. Expects canonical addresses, as decode and the
 * builders produce.
 */
export function classifyArp(arp: ArpPacket): ArpKind {
  if (arp.op === 'request') {
    if (arp.senderIp === ZERO_IP) return 'probe';
    if (arp.senderIp === arp.targetIp) return 'announcement';
    return 'request';
  }
  // A reply from 0.0.0.0 claims no address, so it is not gratuitous whatever its target.
  return arp.senderIp === arp.targetIp && arp.senderIp !== ZERO_IP ? 'gratuitous-reply' : 'reply';
}

/** classifyArp of a frame's packet. */
export function classify(frame: Pick<ArpFrame, 'arp'>): ArpKind {
  return classifyArp(frame.arp);
}
