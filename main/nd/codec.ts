// Ethernet II (+ at most one 802.1Q tag) + IPv6 + ICMPv6 neighbour solicitation (135) or advertisement
// (136), RFC 4861 §4.3 and §4.4, with their link-layer address options. The API follows dns-packet and
// the ARP codec (arp/codec.ts): encode / decode / encodingLength.
//
// decode reads bytes straight off the wire and trusts nothing: every read is bounds-checked against
// offset/length first, and every failure is an NdCodecError that names the problem and the byte offset.
// It never reads past `offset + length` and ignores whatever follows the IPv6 payload (Ethernet padding,
// FCS). It refuses what a host would drop (RFC 4861 §7.1.1, §7.1.2: bad checksum, code not 0, an option
// of length 0 or past the payload, a multicast target, a DAD solicitation with a source MAC ...) and
// reports, not refuses, the hop limit (see rules.ts). Fields a host ignores are not decoded: traffic
// class, flow label, the reserved bits, unknown options and any nonce but the question's (so a frame
// with them decodes, and re-encodes to other bytes that decode the same).
//
// IPv6 next header must be 58 (ICMPv6) directly: ND never travels behind an extension header, and a
// frame that has one (an MLD report's hop-by-hop header, a fragment) is refused as EXTENSION_HEADER.
//
// Frame sizes: ND frames are at least 78 bytes, more than the Ethernet minimum, so there is no padding.

import { formatMac, writeMac } from '../arp/addresses';
import type { Mac } from '../arp/frame';
import {
  checkEncodeTarget,
  checkVlan,
  decodeEthernetPayload,
  describeValue,
  ETHERNET_HEADER_LENGTH,
  hex16,
  placeEncoded,
  readU16,
  requireBytes,
  VLAN_TAG_LENGTH,
  writeEthertype,
  writeU16,
  type ExpectedPayload,
} from '../arp/wire';
import { formatIpv6, writeIpv6 } from './addresses';
import { icmpv6Checksum, icmpv6Sum } from './checksum';
import { NdCodecError, ndFailure, parsingAddress } from './codec-error';
import { ETHERTYPE_IPV6, ICMPV6_NEXT_HEADER, type Ipv6, type NdFrame, type NdMessage } from './frame';
import {
  hasQuestionNonce,
  LINK_ADDR_OPTION_BYTES,
  NONCE_OPTION_BYTES,
  OPTION_SOURCE_LINK_ADDR,
  OPTION_TARGET_LINK_ADDR,
  readLinkAddrOption,
  writeQuestionNonce,
} from './options';
import { brokenNdRule, type NdRuleField } from './rules';

export { NdCodecError, type NdCodecErrorCode } from './codec-error';

export const IPV6_HEADER_LENGTH = 40;
/** Type, code, checksum, flags/reserved, target: the fixed part of both messages. */
export const ND_MESSAGE_LENGTH = 24;
const ICMPV6_HEADER_LENGTH = 4;
const IP_VERSION = 6;
const TYPE_NS = 135;
const TYPE_NA = 136;
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

// Offsets inside the IPv6 header.
const IP_PAYLOAD_LENGTH = 4;
const IP_NEXT_HEADER = 6;
const IP_HOP_LIMIT = 7;
const IP_SRC = 8;
const IP_DST = 24;

// Offsets inside the ICMPv6 message.
const ICMP_CODE = 1;
const ICMP_CHECKSUM = 2;
const ICMP_FLAGS = 4;
const ICMP_TARGET = 8;

const MAX_FRAME_LENGTH = ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH + IPV6_HEADER_LENGTH + ND_MESSAGE_LENGTH + LINK_ADDR_OPTION_BYTES + NONCE_OPTION_BYTES;

/** RFC 8200 §4 and the IANA registry's extension headers, named for the error message. */
const EXTENSION_HEADERS = new Map<number, string>([
  [0, 'Hop-by-Hop Options'],
  [43, 'Routing'],
  [44, 'Fragment'],
  [50, 'Encapsulating Security Payload'],
  [51, 'Authentication'],
  [60, 'Destination Options'],
  [135, 'Mobility'],
  [139, 'Host Identity Protocol'],
  [140, 'Shim6'],
  [253, 'experimental'],
  [254, 'experimental'],
]);

const IPV6_PAYLOAD: ExpectedPayload = {
  ethertype: ETHERTYPE_IPV6,
  name: 'IPv6',
  wrongEthertype: (message, byteOffset) => new NdCodecError('NOT_IPV6', message, byteOffset),
};

/** Checks the IPv6 header at `ipAt` and returns the payload length, whose bytes are all in the frame. */
function decodeIpv6Header(buf: Uint8Array, ipAt: number, end: number): number {
  requireBytes(buf, ipAt, IPV6_HEADER_LENGTH, end, 'IPv6 header', ndFailure);
  const version = (buf[ipAt] as number) >> 4;
  if (version !== IP_VERSION) {
    throw new NdCodecError('BAD_IP_VERSION', `not IPv6: IP version ${version} at byte ${ipAt} (IPv6 is 6)`, ipAt);
  }
  const nextHeaderAt = ipAt + IP_NEXT_HEADER;
  const nextHeader = buf[nextHeaderAt] as number;
  const extension = EXTENSION_HEADERS.get(nextHeader);
  if (extension !== undefined) {
    throw new NdCodecError(
      'EXTENSION_HEADER',
      `unsupported IPv6: next header ${nextHeader} (${extension} extension header) at byte ${nextHeaderAt}; ND is ICMPv6 (58) right after the IPv6 header`,
      nextHeaderAt,
    );
  }
  if (nextHeader !== ICMPV6_NEXT_HEADER) {
    throw new NdCodecError('NOT_ICMPV6', `not ICMPv6: next header ${nextHeader} at byte ${nextHeaderAt} (ICMPv6 is 58)`, nextHeaderAt);
  }
  const lengthAt = ipAt + IP_PAYLOAD_LENGTH;
  const payloadLength = readU16(buf, lengthAt);
  requireBytes(buf, ipAt + IPV6_HEADER_LENGTH, payloadLength, end, `IPv6 payload (payload length ${payloadLength} at byte ${lengthAt})`, ndFailure);
  if (payloadLength < ICMPV6_HEADER_LENGTH) {
    throw new NdCodecError('BAD_PAYLOAD_LENGTH', `malformed ICMPv6: payload length ${payloadLength} at byte ${lengthAt} is less than its 4-byte header`, lengthAt);
  }
  return payloadLength;
}

/** Checks the ICMPv6 type, length, checksum and code of the message at `icmpAt`. */
function checkIcmpv6(buf: Uint8Array, ipAt: number, icmpAt: number, payloadLength: number): 'ns' | 'na' {
  const type = buf[icmpAt] as number;
  if (type !== TYPE_NS && type !== TYPE_NA) {
    throw new NdCodecError('NOT_ND', `not neighbour discovery: ICMPv6 type ${type} at byte ${icmpAt} (solicitation 135, advertisement 136)`, icmpAt);
  }
  if (payloadLength < ND_MESSAGE_LENGTH) {
    const lengthAt = ipAt + IP_PAYLOAD_LENGTH;
    throw new NdCodecError(
      'BAD_PAYLOAD_LENGTH',
      `malformed ND: payload length ${payloadLength} at byte ${lengthAt} is less than the ${ND_MESSAGE_LENGTH} bytes of a type ${type} message (RFC 4861 §7.1.1)`,
      lengthAt,
    );
  }
  const sum = icmpv6Sum(buf, ipAt + IP_SRC, ipAt + IP_DST, icmpAt, payloadLength);
  if (sum !== 0xffff) {
    const checksumAt = icmpAt + ICMP_CHECKSUM;
    throw new NdCodecError(
      'BAD_CHECKSUM',
      `bad ICMPv6 checksum ${hex16(readU16(buf, checksumAt))} at byte ${checksumAt}: message and pseudo-header sum to ${hex16(sum)}, not 0xffff`,
      checksumAt,
    );
  }
  const code = buf[icmpAt + ICMP_CODE] as number;
  if (code !== 0) {
    throw new NdCodecError('BAD_CODE', `malformed ND: ICMPv6 code ${code} at byte ${icmpAt + ICMP_CODE} (RFC 4861 §7.1.1: must be 0)`, icmpAt + ICMP_CODE);
  }
  return type === TYPE_NS ? 'ns' : 'na';
}

/** The message at `icmpAt`, options and RFC 4861 rules checked. */
function decodeMessage(buf: Uint8Array, ipAt: number, icmpAt: number, payloadLength: number): NdMessage {
  const type = checkIcmpv6(buf, ipAt, icmpAt, payloadLength);
  const optionType = type === 'ns' ? OPTION_SOURCE_LINK_ADDR : OPTION_TARGET_LINK_ADDR;
  const linkAddr = readLinkAddrOption(buf, icmpAt + ND_MESSAGE_LENGTH, icmpAt + payloadLength, optionType);
  const flags = buf[icmpAt + ICMP_FLAGS] as number;
  const solicited = type === 'na' && (flags & FLAG_SOLICITED) !== 0;
  const targetAt = icmpAt + ICMP_TARGET;
  const broken = brokenNdRule(buf, { srcAt: ipAt + IP_SRC, dstAt: ipAt + IP_DST, targetAt, type, solicited, hasSourceLinkAddr: type === 'ns' && linkAddr !== null });
  if (broken !== null) {
    const at: Record<NdRuleField, number> = {
      'ipv6.src': ipAt + IP_SRC,
      'ipv6.dst': ipAt + IP_DST,
      'icmp.target': targetAt,
      'icmp.solicited': icmpAt + ICMP_FLAGS,
      'icmp.sourceLinkAddr': linkAddr?.at ?? targetAt,
    };
    const byteOffset = at[broken.field];
    throw new NdCodecError(broken.code, `invalid ND at byte ${byteOffset}: ${broken.reason}`, byteOffset);
  }
  const target = formatIpv6(buf, targetAt);
  const mac = linkAddr?.mac ?? null;
  if (type === 'ns') {
    // Absent rather than false when unmarked, so solicitations decode as they did before the mark existed.
    if (hasQuestionNonce(buf, icmpAt + ND_MESSAGE_LENGTH, icmpAt + payloadLength)) return { type, target, sourceLinkAddr: mac, question: true };
    return { type, target, sourceLinkAddr: mac };
  }
  return {
    type,
    target,
    router: (flags & FLAG_ROUTER) !== 0,
    solicited,
    override: (flags & FLAG_OVERRIDE) !== 0,
    targetLinkAddr: mac,
  };
}

/**
 * Decodes one Ethernet frame carrying an IPv6 neighbour solicitation or advertisement from
 * `buf[offset, offset + length)`. `length` defaults to the rest of the buffer.
 */
export function decode(buf: Uint8Array, offset = 0, length?: number): NdFrame {
  const { end, vlan, payloadAt: ipAt } = decodeEthernetPayload(buf, offset, length, IPV6_PAYLOAD, ndFailure);
  const payloadLength = decodeIpv6Header(buf, ipAt, end);
  const icmp = decodeMessage(buf, ipAt, ipAt + IPV6_HEADER_LENGTH, payloadLength);
  return {
    dstMac: formatMac(buf, offset),
    srcMac: formatMac(buf, offset + 6),
    vlan,
    ipv6: { src: formatIpv6(buf, ipAt + IP_SRC), dst: formatIpv6(buf, ipAt + IP_DST), hopLimit: buf[ipAt + IP_HOP_LIMIT] as number },
    icmp,
  };
}

/** The MAC option the message carries: the source's in a solicitation, the target's in an advertisement. */
function linkAddrOf(icmp: NdMessage): Mac | null {
  return icmp.type === 'ns' ? icmp.sourceLinkAddr : icmp.targetLinkAddr;
}

function isQuestionNs(icmp: NdMessage): boolean {
  return icmp.type === 'ns' && icmp.question === true;
}

/** Bytes that encode(frame) writes. */
export function encodingLength(frame: NdFrame): number {
  const tag = frame.vlan !== null ? VLAN_TAG_LENGTH : 0;
  const option = linkAddrOf(frame.icmp) !== null ? LINK_ADDR_OPTION_BYTES : 0;
  const nonce = isQuestionNs(frame.icmp) ? NONCE_OPTION_BYTES : 0;
  return ETHERNET_HEADER_LENGTH + tag + IPV6_HEADER_LENGTH + ND_MESSAGE_LENGTH + option + nonce;
}

// encode builds the frame here first, so a frame that fails validation halfway leaves the caller's
// buffer untouched.
const scratch = new Uint8Array(MAX_FRAME_LENGTH);

function putMac(text: Mac, field: string, at: number): void {
  parsingAddress(`cannot encode ${field}`, () => writeMac(text, scratch, at));
}

function putIpv6(text: Ipv6, field: string, at: number): void {
  parsingAddress(`cannot encode ${field}`, () => writeIpv6(text, scratch, at));
}

function checkFrameShape(frame: NdFrame): void {
  const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;
  if (!isObject(frame) || !isObject(frame.ipv6) || !isObject(frame.icmp)) {
    throw new NdCodecError('BAD_FRAME', 'cannot encode: expected a frame object with ipv6 and icmp parts');
  }
  checkVlan(frame.vlan, ndFailure);
  const hopLimit: unknown = frame.ipv6.hopLimit;
  if (typeof hopLimit !== 'number' || !Number.isInteger(hopLimit) || hopLimit < 0 || hopLimit > 255) {
    throw new NdCodecError('BAD_HOP_LIMIT', `cannot encode ipv6.hopLimit: ${describeValue(hopLimit)} is not an integer 0..255 (ND uses 255)`);
  }
  const type: unknown = frame.icmp.type;
  if (type !== 'ns' && type !== 'na') throw new NdCodecError('BAD_TYPE', `cannot encode icmp.type: ${describeValue(type)} is not "ns" or "na"`);
  if (frame.icmp.type === 'ns') {
    const question: unknown = frame.icmp.question;
    if (question !== undefined && question !== true) throw new NdCodecError('BAD_FLAG', `cannot encode icmp.question: ${describeValue(question)} is not true or absent`);
  }
  if (frame.icmp.type === 'na') {
    for (const flag of ['router', 'solicited', 'override'] as const) {
      const value: unknown = frame.icmp[flag];
      if (typeof value !== 'boolean') throw new NdCodecError('BAD_FLAG', `cannot encode icmp.${flag}: ${describeValue(value)} is not true or false`);
    }
  }
}

function flagsOf(icmp: NdMessage): number {
  if (icmp.type === 'ns') return 0;
  return (icmp.router ? FLAG_ROUTER : 0) | (icmp.solicited ? FLAG_SOLICITED : 0) | (icmp.override ? FLAG_OVERRIDE : 0);
}

/** Writes the frame into the scratch buffer; returns its length. */
function encodeIntoScratch(frame: NdFrame): number {
  checkFrameShape(frame);
  const { ipv6, icmp } = frame;
  const length = encodingLength(frame);
  scratch.fill(0);
  putMac(frame.dstMac, 'dstMac', 0);
  putMac(frame.srcMac, 'srcMac', 6);
  const ipAt = writeEthertype(scratch, frame.vlan, ETHERTYPE_IPV6);
  const icmpAt = ipAt + IPV6_HEADER_LENGTH;
  const payloadLength = length - icmpAt;
  scratch[ipAt] = IP_VERSION << 4; // traffic class and flow label 0, as Linux sends ND
  writeU16(scratch, ipAt + IP_PAYLOAD_LENGTH, payloadLength);
  scratch[ipAt + IP_NEXT_HEADER] = ICMPV6_NEXT_HEADER;
  scratch[ipAt + IP_HOP_LIMIT] = ipv6.hopLimit;
  putIpv6(ipv6.src, 'ipv6.src', ipAt + IP_SRC);
  putIpv6(ipv6.dst, 'ipv6.dst', ipAt + IP_DST);
  scratch[icmpAt] = icmp.type === 'ns' ? TYPE_NS : TYPE_NA;
  scratch[icmpAt + ICMP_FLAGS] = flagsOf(icmp);
  putIpv6(icmp.target, 'icmp.target', icmpAt + ICMP_TARGET);
  const linkAddr = linkAddrOf(icmp);
  if (linkAddr !== null) {
    const optionAt = icmpAt + ND_MESSAGE_LENGTH;
    scratch[optionAt] = icmp.type === 'ns' ? OPTION_SOURCE_LINK_ADDR : OPTION_TARGET_LINK_ADDR;
    scratch[optionAt + 1] = 1;
    putMac(linkAddr, icmp.type === 'ns' ? 'icmp.sourceLinkAddr' : 'icmp.targetLinkAddr', optionAt + 2);
  }
  // After the link-layer option, where Linux puts its own nonce.
  if (isQuestionNs(icmp)) writeQuestionNonce(scratch, length - NONCE_OPTION_BYTES);
  const broken = brokenNdRule(scratch, {
    srcAt: ipAt + IP_SRC,
    dstAt: ipAt + IP_DST,
    targetAt: icmpAt + ICMP_TARGET,
    type: icmp.type,
    solicited: icmp.type === 'na' && icmp.solicited,
    hasSourceLinkAddr: icmp.type === 'ns' && linkAddr !== null,
  });
  if (broken !== null) throw new NdCodecError(broken.code, `cannot encode ${broken.field}: ${broken.reason}`);
  writeU16(scratch, icmpAt + ICMP_CHECKSUM, icmpv6Checksum(scratch, ipAt + IP_SRC, ipAt + IP_DST, icmpAt, payloadLength));
  return length;
}

/**
 * Encodes `frame` into `buf` at `offset` and returns `buf`; without `buf`, returns a new buffer of
 * offset + encodingLength bytes with the frame at `offset`. The checksum is computed here.
 */
export function encode(frame: NdFrame, buf?: Buffer, offset = 0): Buffer {
  checkEncodeTarget(buf, offset, ndFailure);
  const length = encodeIntoScratch(frame);
  return placeEncoded(scratch, length, buf, offset, ndFailure);
}
