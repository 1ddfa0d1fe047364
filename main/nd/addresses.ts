// Strict parsing of IPv6 address text (every RFC 4291 §2.2 form; the reader is the contract's,
// preload/contract/ip-address.ts, so the console and the engine read addresses alike) and RFC 5952
// canonical formatting.
// Administrators type these into forms and config files, so every rejection is an AddressError (the
// same class as for MACs and IPv4) whose message can be shown to them verbatim. Anything outside the
// RFC 4291 grammar is refused rather than guessed at: a zone id, brackets, a prefix length, spaces.
// Stored and compared addresses are the RFC 5952 text, so one address has exactly one spelling.

import { AddressError, formatIpv4Bytes, parseIpv4, parses, quote } from '../arp/addresses';
import type { Mac } from '../arp/frame';
import { readIpv6Words } from '../../preload/contract/ip-address';
import type { Ipv6 } from './frame';

export const IPV6_BYTES = 16;
const WORDS = 8;

function badIpv6(text: unknown, reason: string): AddressError {
  return new AddressError('BAD_IPV6', `invalid IPv6 address ${quote(text)}: ${reason}`);
}

function checkByteRange(bytes: Uint8Array, offset: number): void {
  if (!(bytes instanceof Uint8Array) || !Number.isInteger(offset) || offset < 0 || offset + IPV6_BYTES > bytes.length) {
    const size = bytes instanceof Uint8Array ? `a ${bytes.length}-byte buffer` : 'no buffer';
    throw new AddressError('BAD_IPV6', `need ${IPV6_BYTES} bytes at offset ${String(offset)} of ${size}`);
  }
}

/** Why a dotted tail is not an IPv4 address, in parseIpv4's own words (what every IPv4 input is told). */
function ipv4TailReason(part: string): string {
  try {
    parseIpv4(part);
  } catch (error) {
    if (error instanceof AddressError) return `its IPv4 tail: ${error.message}`;
    throw error;
  }
  return `its IPv4 tail ${quote(part)} is not a dotted quad`;
}

/** The eight 16-bit words of `text` (the contract's reader), or an AddressError that says what is wrong with it. */
function parseWords(text: unknown): number[] {
  const words = readIpv6Words(text, ipv4TailReason);
  if (typeof words === 'string') throw badIpv6(text, words);
  return words;
}

/** Writes the 16 bytes of `text` into `target` at `offset`; nothing is written when the text is invalid. */
export function writeIpv6(text: Ipv6, target: Uint8Array, offset: number): void {
  checkByteRange(target, offset);
  const words = parseWords(text);
  words.forEach((word, index) => {
    target[offset + 2 * index] = word >>> 8;
    target[offset + 2 * index + 1] = word & 0xff;
  });
}

/** The 16 bytes of any RFC 4291 spelling of an address. */
export function parseIpv6(text: Ipv6): Uint8Array {
  const bytes = new Uint8Array(IPV6_BYTES);
  writeIpv6(text, bytes, 0);
  return bytes;
}

function wordAt(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

/** ::ffff:0:0/96 (RFC 4291 §2.5.5.2): an IPv4 address as IPv6 sockets see it. */
export function isIpv4MappedAt(bytes: Uint8Array, offset = 0): boolean {
  checkByteRange(bytes, offset);
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) return false;
  return bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff;
}

/** RFC 5952 text of the 16 bytes at `offset`. Loops rather than arrays: decode formats three per frame. */
export function formatIpv6(bytes: Uint8Array, offset = 0): Ipv6 {
  checkByteRange(bytes, offset);
  // RFC 5952 §5: an IPv4-mapped address keeps its IPv4 part dotted.
  if (isIpv4MappedAt(bytes, offset)) return `::ffff:${formatIpv4Bytes(bytes, offset + 12)}`;
  // RFC 5952 §4.2: "::" replaces the longest run of two or more zero words, the first of equal runs.
  let zerosStart = -1;
  let zerosLength = 1;
  let runStart = -1;
  for (let i = 0; i < WORDS; i++) {
    if (wordAt(bytes, offset + 2 * i) !== 0) {
      runStart = -1;
      continue;
    }
    if (runStart < 0) runStart = i;
    if (i - runStart + 1 > zerosLength) {
      zerosStart = runStart;
      zerosLength = i - runStart + 1;
    }
  }
  let text = '';
  for (let i = 0; i < WORDS; i++) {
    if (i === zerosStart) {
      text += '::';
      i += zerosLength - 1;
      continue;
    }
    const separator = i === 0 || i === zerosStart + zerosLength ? '' : ':';
    text += separator + wordAt(bytes, offset + 2 * i).toString(16);
  }
  return text;
}

// Scratch space for classifying without allocating; JavaScript is single-threaded here.
const SCRATCH = new Uint8Array(IPV6_BYTES);
const SCRATCH_OTHER = new Uint8Array(IPV6_BYTES);

/** Parses then formats: the one spelling to store and compare. */
export function canonicalIpv6(text: Ipv6): Ipv6 {
  writeIpv6(text, SCRATCH, 0);
  return formatIpv6(SCRATCH);
}

/** Any valid RFC 4291 spelling. */
export function isIpv6(text: unknown): text is Ipv6 {
  return parses(() => writeIpv6(text as string, SCRATCH, 0));
}

/** Only the RFC 5952 spelling, which frame.ts's Ipv6 promises. */
export function isCanonicalIpv6(text: unknown): text is Ipv6 {
  return isIpv6(text) && canonicalIpv6(text) === text;
}

/** Byte order (numeric order), for sorting; any spellings. */
export function compareIpv6(a: Ipv6, b: Ipv6): number {
  writeIpv6(a, SCRATCH, 0);
  writeIpv6(b, SCRATCH_OTHER, 0);
  for (let i = 0; i < IPV6_BYTES; i++) {
    const difference = (SCRATCH[i] as number) - (SCRATCH_OTHER[i] as number);
    if (difference !== 0) return difference;
  }
  return 0;
}

// Classification on bytes (for the codec) and on text (for everything else).

export function isUnspecifiedAt(bytes: Uint8Array, offset = 0): boolean {
  checkByteRange(bytes, offset);
  for (let i = 0; i < IPV6_BYTES; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticastAt(bytes: Uint8Array, offset = 0): boolean {
  checkByteRange(bytes, offset);
  return bytes[offset] === 0xff;
}

const SOLICITED_NODE_PREFIX = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff];

/** ff02::1:ff00:0/104 (RFC 4291 §2.7.1): the group a node joins for each of its addresses. */
export function isSolicitedNodeAt(bytes: Uint8Array, offset = 0): boolean {
  checkByteRange(bytes, offset);
  return SOLICITED_NODE_PREFIX.every((byte, index) => bytes[offset + index] === byte);
}

function classified(text: Ipv6, test: (bytes: Uint8Array) => boolean): boolean {
  writeIpv6(text, SCRATCH, 0);
  return test(SCRATCH);
}

export function isUnspecifiedIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => isUnspecifiedAt(bytes));
}

/** ::1. */
export function isLoopbackIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => bytes[15] === 1 && bytes.subarray(0, 15).every((byte) => byte === 0));
}

/** fe80::/10. */
export function isLinkLocalIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => bytes[0] === 0xfe && ((bytes[1] as number) & 0xc0) === 0x80);
}

export function isMulticastIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => isMulticastAt(bytes));
}

export function isIpv4MappedIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => isIpv4MappedAt(bytes));
}

export function isSolicitedNodeIpv6(ip: Ipv6): boolean {
  return classified(ip, (bytes) => isSolicitedNodeAt(bytes));
}

/** ff02::1:ffXX:XXXX, XX:XXXX the last 24 bits of `ip`: where a solicitation for `ip` is sent. */
export function solicitedNodeAddress(ip: Ipv6): Ipv6 {
  writeIpv6(ip, SCRATCH, 0);
  if (isMulticastAt(SCRATCH)) {
    throw new AddressError('NOT_HOST_ADDRESS', `${quote(ip)} is a multicast address: only unicast addresses have a solicited-node group`);
  }
  SCRATCH.set(SOLICITED_NODE_PREFIX, 0);
  return formatIpv6(SCRATCH);
}

function hexByte(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/** The Ethernet group address of an IPv6 multicast group: 33:33 and its last 32 bits (RFC 2464 §7). */
export function multicastMac(group: Ipv6): Mac {
  writeIpv6(group, SCRATCH, 0);
  if (!isMulticastAt(SCRATCH)) throw badIpv6(group, 'not a multicast address (ff00::/8), so it has no Ethernet group address');
  return ['33', '33', ...Array.from(SCRATCH.subarray(12), hexByte)].join(':');
}

/** 33:33:ff:XX:XX:XX: the Ethernet destination of a solicitation for `ip`. */
export function solicitedNodeMac(ip: Ipv6): Mac {
  return multicastMac(solicitedNodeAddress(ip));
}

export interface Ipv6Cidr {
  /** The address as written (canonical), not the network address. */
  ip: Ipv6;
  prefix: number;
}

const MAX_PREFIX = 128;

function badPrefix(text: string, reason: string): AddressError {
  return new AddressError('BAD_PREFIX', `invalid prefix length ${quote(text)}: ${reason}`);
}

/**
 * A prefix length for an address a node holds: strict decimal 1..128 ("64"; not "064", "+64", "0").
 * /0 is refused: it would put every IPv6 address on the link, which no administrator means for a host.
 */
export function parseIpv6Prefix(text: string): number {
  if (typeof text !== 'string' || !/^[0-9]{1,3}$/.test(text)) throw badPrefix(text, 'expected a number 1..128');
  if (text.length > 1 && text.startsWith('0')) throw badPrefix(text, 'leading zeros are not allowed');
  const value = Number(text);
  if (value === 0) throw badPrefix(text, '/0 would put every IPv6 address on the link; expected 1..128');
  if (value > MAX_PREFIX) throw badPrefix(text, 'an IPv6 prefix is at most 128');
  return value;
}

/** Why `ip` cannot be held by a node on a LAN, or null when it can (link-local included: VRRPv3 moves those). */
export function notHostReason(ip: Ipv6): string | null {
  if (isUnspecifiedIpv6(ip)) return ':: is the unspecified address, held by no one';
  if (isLoopbackIpv6(ip)) return '::1 is the loopback address, never on a LAN';
  if (isMulticastIpv6(ip)) return 'a multicast address (ff00::/8) names a group, not a host';
  if (isIpv4MappedIpv6(ip)) return 'an IPv4-mapped address (::ffff:0:0/96) is IPv4: move the IPv4 address instead';
  return null;
}

/**
 * Why a link-local address (fe80::/10) cannot be a cluster's or `ipfo claim`'s, or null when `ip` is not
 * one: every interface has its own, scoped to its link, and none of them moves between nodes (only VRRP
 * moves one, which notHostReason allows for). The one wording of the rule, for the CLI and the cluster.
 */
export function linkLocalProblem(ip: Ipv6): string | null {
  if (!isLinkLocalIpv6(ip)) return null;
  return `${ip} is link-local (fe80::/10): it belongs to one interface's link, not to an address that moves; use a global or unique-local address`;
}

/**
 * Parses "2001:db8::5/64", the address a node would hold and its prefix. Each part's error keeps its
 * own code (BAD_CIDR for the shape, BAD_IPV6, BAD_PREFIX, NOT_HOST_ADDRESS) and names the whole input.
 */
export function parseIpv6Cidr(text: string): Ipv6Cidr {
  const example = 'as in "2001:db8::5/64"';
  if (typeof text !== 'string') throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected text ${example}`);
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) {
    throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected one "/" ${example}`);
  }
  const ipText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (ipText.length === 0 || prefixText.length === 0) {
    throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected an address and a prefix ${example}`);
  }
  try {
    const ip = canonicalIpv6(ipText);
    const reason = notHostReason(ip);
    if (reason !== null) throw new AddressError('NOT_HOST_ADDRESS', `${quote(ip)} cannot be a node's address: ${reason}`);
    return { ip, prefix: parseIpv6Prefix(prefixText) };
  } catch (error) {
    // Keep the specific code but name the whole input the administrator typed.
    if (error instanceof AddressError) throw new AddressError(error.code, `in ${quote(text)}: ${error.message}`);
    throw error;
  }
}
