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
  ZERO_IP,
  ZERO_MAC,
  type ArpFrame,
  type ArpOp,
  type ArpPacket,
  type Ipv4,
  type Mac,
} from './frame';
import {
  checkEncodeTarget,
  checkVlan,
  decodeEthernetPayload,
  describeValue,
  FrameCodecError,
  hex16,
  placeEncoded,
  requireBytes,
  readU16,
  VLAN_TAG_LENGTH,
  writeEthertype,
  writeU16,
  type ExpectedPayload,
  type WireFailure,
} from './wire';

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

export class ArpCodecError extends FrameCodecError<ArpCodecErrorCode> {
  override readonly name = 'ArpCodecError';
}

export { ETHERNET_HEADER_LENGTH, VLAN_TAG_LENGTH } from './wire';
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

const fail: WireFailure = (code, message, byteOffset) => new ArpCodecError(code, message, byteOffset);
const ARP_PAYLOAD: ExpectedPayload = {
  ethertype: ETHERTYPE_ARP,
  name: 'ARP',
  wrongEthertype: (message, byteOffset) => new ArpCodecError('NOT_ARP', message, byteOffset),
};

/**
 * Decodes one Ethernet frame carrying ARP for IPv4 from `buf[offset, offset + length)`.
 * `length` defaults to the rest of the buffer.
 */
export function decode(buf: Uint8Array, offset = 0, length?: number): ArpFrame {
  const { end, vlan, payloadAt: arpAt } = decodeEthernetPayload(buf, offset, length, ARP_PAYLOAD, fail);
  requireBytes(buf, arpAt, ARP_FIXED_HEADER_LENGTH, end, 'ARP header', fail);
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
  requireBytes(buf, arpAt, ARP_PACKET_LENGTH, end, 'ARP packet', fail);

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

function opcodeOf(op: ArpOp): number {
  if (op === 'request') return OP_REQUEST;
  if (op === 'reply') return OP_REPLY;
  throw new ArpCodecError('BAD_OP', `cannot encode arp.op: ${describeValue(op)} is not "request" or "reply"`);
}

/** Writes the frame into the scratch buffer; returns its length. */
function encodeIntoScratch(frame: ArpFrame): number {
  if (typeof frame !== 'object' || frame === null || typeof frame.arp !== 'object' || frame.arp === null) {
    throw new ArpCodecError('BAD_FRAME', 'cannot encode: expected a frame object with an arp packet');
  }
  checkVlan(frame.vlan, fail);
  const length = encodingLength(frame);
  const arp = frame.arp;
  encodeScratch.fill(0);
  putMac(frame.dst, 'dst', 0);
  putMac(frame.src, 'src', 6);
  const arpAt = writeEthertype(encodeScratch, frame.vlan, ETHERTYPE_ARP);
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
  checkEncodeTarget(buf, offset, fail);
  const length = encodeIntoScratch(frame);
  return placeEncoded(encodeScratch, length, buf, offset, fail);
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
