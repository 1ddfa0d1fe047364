// Strict parsing and canonical formatting of the address strings in frame.ts.
// Administrators type these into forms and config files, so every rejection carries a
// message that can be shown to them verbatim. Parsing is deliberately strict (no
// leading zeros, no whitespace, no shorthand): "010.0.0.1" means octal to some tools and
// decimal to others, and a silently misread address is a failover to the wrong host.
// Formatting uses lookup tables because the ARP monitor formats ~600k addresses per second.

import type { Ipv4, Mac } from './frame';

// BAD_IPV6 and NOT_HOST_ADDRESS are nd/addresses.ts's: one error class for every address an administrator types.
export type AddressErrorCode = 'BAD_MAC' | 'BAD_IPV4' | 'BAD_IPV6' | 'BAD_PREFIX' | 'BAD_CIDR' | 'NOT_HOST_ADDRESS';

export class AddressError extends Error {
  readonly code: AddressErrorCode;

  constructor(code: AddressErrorCode, message: string) {
    super(message);
    this.name = 'AddressError';
    this.code = code;
  }
}

export interface Cidr {
  /** The address as written (canonical), not the network address. */
  ip: Ipv4;
  prefix: number;
}

const MAX_QUOTED_LENGTH = 64;

/** Quotes untrusted input for an error message: escaped, bounded, never multi-line. */
export function quote(value: unknown): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value})`;
  const shown = value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}...` : value;
  return JSON.stringify(shown);
}

const HEX_DIGITS = '0123456789abcdef';
const HEX_PAIR: readonly string[] = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!);
const HEX_PAIR_COLON: readonly string[] = HEX_PAIR.map((pair) => `${pair}:`);
const DECIMAL: readonly string[] = Array.from({ length: 256 }, (_, b) => String(b));
const DECIMAL_DOT: readonly string[] = DECIMAL.map((text) => `${text}.`);

// Table lookups with an index already known to be a byte (0..255).
function hexColon(byte: number): string {
  return HEX_PAIR_COLON[byte] as string;
}
function hex(byte: number): string {
  return HEX_PAIR[byte] as string;
}
function decimalDot(byte: number): string {
  return DECIMAL_DOT[byte] as string;
}
function decimal(byte: number): string {
  return DECIMAL[byte] as string;
}

const CHAR_0 = 0x30;
const CHAR_9 = 0x39;
const CHAR_LOWER_A = 0x61;
const CHAR_LOWER_F = 0x66;
const CHAR_UPPER_A = 0x41;
const CHAR_UPPER_F = 0x46;
const CHAR_COLON = 0x3a;
const CHAR_DASH = 0x2d;
const CHAR_DOT = 0x2e;

/** Value of one hex digit, or -1. */
function hexValue(code: number): number {
  if (code >= CHAR_0 && code <= CHAR_9) return code - CHAR_0;
  if (code >= CHAR_LOWER_A && code <= CHAR_LOWER_F) return code - CHAR_LOWER_A + 10;
  if (code >= CHAR_UPPER_A && code <= CHAR_UPPER_F) return code - CHAR_UPPER_A + 10;
  return -1;
}

const MAC_TEXT_LENGTH = 17;
export const MAC_BYTES = 6;

function badMac(text: unknown, reason: string): AddressError {
  return new AddressError('BAD_MAC', `invalid MAC address ${quote(text)}: ${reason}`);
}

/**
 * Writes the MAC in `text` as 6 bytes into `target` at `offset` (no allocation).
 * Accepts six 2-digit hex groups of either case, separated all by ':' or all by '-'.
 * Nothing is written when the text is invalid.
 */
export function writeMac(text: Mac, target: Uint8Array, offset: number): void {
  checkByteRange(target, offset, MAC_BYTES, 'BAD_MAC');
  if (typeof text !== 'string') throw badMac(text, 'expected text like "02:00:0a:d5:00:01"');
  if (text.length !== MAC_TEXT_LENGTH) {
    throw badMac(text, 'expected six two-digit hex groups like "02:00:0a:d5:00:01"');
  }
  const separator = text.charCodeAt(2);
  if (separator !== CHAR_COLON && separator !== CHAR_DASH) {
    throw badMac(text, 'groups must be separated by ":" (or "-")');
  }
  // Validate fully before writing so a bad MAC never leaves half an address behind.
  for (let group = 0; group < MAC_BYTES; group++) {
    const at = group * 3;
    if (hexValue(text.charCodeAt(at)) < 0 || hexValue(text.charCodeAt(at + 1)) < 0) {
      throw badMac(text, `group ${group + 1} is not two hex digits`);
    }
    if (group < MAC_BYTES - 1 && text.charCodeAt(at + 2) !== separator) {
      throw badMac(text, 'groups must be separated by ":" (or "-"), the same one throughout');
    }
  }
  for (let group = 0; group < MAC_BYTES; group++) {
    const at = group * 3;
    target[offset + group] = (hexValue(text.charCodeAt(at)) << 4) | hexValue(text.charCodeAt(at + 1));
  }
}

export function parseMac(text: Mac): Buffer {
  const bytes = Buffer.alloc(MAC_BYTES);
  writeMac(text, bytes, 0);
  return bytes;
}

function checkByteRange(bytes: Uint8Array, offset: number, count: number, code: AddressErrorCode): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + count > bytes.length) {
    throw new AddressError(code, `need ${count} bytes at offset ${String(offset)} of a ${bytes.length}-byte buffer`);
  }
}

/** Canonical MAC ("aa:bb:cc:dd:ee:ff") of the 6 bytes at `offset`. */
export function formatMac(bytes: Uint8Array, offset = 0): Mac {
  checkByteRange(bytes, offset, MAC_BYTES, 'BAD_MAC');
  return (
    hexColon(bytes[offset]!) +
    hexColon(bytes[offset + 1]!) +
    hexColon(bytes[offset + 2]!) +
    hexColon(bytes[offset + 3]!) +
    hexColon(bytes[offset + 4]!) +
    hex(bytes[offset + 5]!)
  );
}

// Scratch space for validating without allocating; JavaScript is single-threaded here.
const SCRATCH_MAC = new Uint8Array(MAC_BYTES);

/** Whether `parse` runs without throwing: the is* predicates over the strict parsers. */
export function parses(parse: () => unknown): boolean {
  try {
    parse();
    return true;
  } catch {
    return false;
  }
}

export function isMac(text: unknown): text is Mac {
  return parses(() => writeMac(text as string, SCRATCH_MAC, 0));
}

/** Parses then formats: the one spelling to store and compare. */
export function canonicalMac(text: Mac): Mac {
  writeMac(text, SCRATCH_MAC, 0);
  return formatMac(SCRATCH_MAC);
}

/**
 * True only for the canonical spelling (lowercase, ':'), which frame.ts's Mac promises:
 * for values that are compared as strings without being canonicalized first.
 */
export function isCanonicalMac(text: unknown): text is Mac {
  return isMac(text) && canonicalMac(text) === text;
}

function badIpv4(text: unknown, reason: string): AddressError {
  return new AddressError('BAD_IPV4', `invalid IPv4 address ${quote(text)}: ${reason}`);
}

/**
 * Parses a strict dotted quad (4 decimal parts 0-255, no leading zeros, nothing else)
 * to an unsigned 32-bit number.
 */
export function parseIpv4(text: Ipv4): number {
  if (typeof text !== 'string') throw badIpv4(text, 'expected text like "10.213.0.1"');
  let value = 0;
  let dots = 0;
  let partValue = 0;
  let partDigits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === CHAR_DOT) {
      if (partDigits === 0) throw badIpv4(text, `part ${dots + 1} is empty`);
      if (dots === 3) throw badIpv4(text, 'expected exactly four parts separated by dots');
      value = value * 256 + partValue;
      dots++;
      partValue = 0;
      partDigits = 0;
      continue;
    }
    if (code < CHAR_0 || code > CHAR_9) {
      throw badIpv4(text, 'only digits and dots are allowed, like "10.213.0.1"');
    }
    if (partDigits > 0 && partValue === 0) throw badIpv4(text, `part ${dots + 1} has a leading zero`);
    partValue = partValue * 10 + (code - CHAR_0);
    partDigits++;
    if (partValue > 255) throw badIpv4(text, `part ${dots + 1} is more than 255`);
  }
  if (dots !== 3) throw badIpv4(text, 'expected exactly four parts separated by dots');
  if (partDigits === 0) throw badIpv4(text, 'part 4 is empty');
  return value * 256 + partValue;
}

/** parseIpv4 accepts only the canonical spelling, so this is also "is a canonical Ipv4". */
export function isIpv4(text: unknown): text is Ipv4 {
  return parses(() => parseIpv4(text as string));
}

const MAX_U32 = 0xffffffff;

/** Canonical dotted quad of an unsigned 32-bit number. */
export function formatIpv4(value: number): Ipv4 {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new AddressError('BAD_IPV4', `invalid IPv4 address value ${String(value)}: expected an integer 0..${MAX_U32}`);
  }
  return decimalDot(value >>> 24) + decimalDot((value >>> 16) & 255) + decimalDot((value >>> 8) & 255) + decimal(value & 255);
}

export const IPV4_BYTES = 4;

/** Canonical dotted quad of the 4 bytes (network order) at `offset`. */
export function formatIpv4Bytes(bytes: Uint8Array, offset = 0): Ipv4 {
  checkByteRange(bytes, offset, IPV4_BYTES, 'BAD_IPV4');
  return decimalDot(bytes[offset]!) + decimalDot(bytes[offset + 1]!) + decimalDot(bytes[offset + 2]!) + decimal(bytes[offset + 3]!);
}

export function canonicalIpv4(text: Ipv4): Ipv4 {
  return formatIpv4(parseIpv4(text));
}

function badPrefix(text: unknown, reason: string): AddressError {
  return new AddressError('BAD_PREFIX', `invalid prefix length ${quote(text)}: ${reason}`);
}

/** Parses a prefix length written as strict decimal 0..32 ("24"; not "024", "+24", "33"). */
export function parsePrefix(text: string): number {
  if (typeof text !== 'string') throw badPrefix(text, 'expected a number 0..32');
  if (text.length === 0 || text.length > 2) throw badPrefix(text, 'expected a number 0..32');
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < CHAR_0 || code > CHAR_9) throw badPrefix(text, 'expected a number 0..32');
    value = value * 10 + (code - CHAR_0);
  }
  if (text.length === 2 && text.charCodeAt(0) === CHAR_0) throw badPrefix(text, 'leading zeros are not allowed');
  if (value > 32) throw badPrefix(text, 'an IPv4 prefix is at most 32');
  return value;
}

function checkPrefix(prefix: number): void {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new AddressError('BAD_PREFIX', `invalid prefix length ${String(prefix)}: expected an integer 0..32`);
  }
}

/** Netmask of a prefix length as an unsigned 32-bit number (/24 -> 0xffffff00). */
export function prefixMask(prefix: number): number {
  checkPrefix(prefix);
  // A shift by 32 is a shift by 0 in JavaScript, so /0 needs its own case.
  return prefix === 0 ? 0 : (MAX_U32 << (32 - prefix)) >>> 0;
}

/** Parses "10.213.0.5/24". */
export function parseCidr(text: string): Cidr {
  if (typeof text !== 'string') {
    throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected text like "10.213.0.5/24"`);
  }
  const slash = text.indexOf('/');
  if (slash < 0 || slash !== text.lastIndexOf('/')) {
    throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected one "/" as in "10.213.0.5/24"`);
  }
  const ipText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  if (ipText.length === 0 || prefixText.length === 0) {
    throw new AddressError('BAD_CIDR', `invalid address/prefix ${quote(text)}: expected an address and a prefix as in "10.213.0.5/24"`);
  }
  try {
    return { ip: canonicalIpv4(ipText), prefix: parsePrefix(prefixText) };
  } catch (error) {
    // Keep the specific code but name the whole input the administrator typed.
    if (error instanceof AddressError) throw new AddressError(error.code, `in ${quote(text)}: ${error.message}`);
    throw error;
  }
}

export function formatCidr(cidr: Cidr): string {
  checkPrefix(cidr.prefix);
  return `${canonicalIpv4(cidr.ip)}/${cidr.prefix}`;
}

/** The network address of `ip` under `prefix` ("10.213.0.5", 24 -> "10.213.0.0"). */
export function networkOf(ip: Ipv4, prefix: number): Ipv4 {
  return formatIpv4((parseIpv4(ip) & prefixMask(prefix)) >>> 0);
}

export function sameSubnet(a: Ipv4, b: Ipv4, prefix: number): boolean {
  const mask = prefixMask(prefix);
  return ((parseIpv4(a) & mask) >>> 0) === ((parseIpv4(b) & mask) >>> 0);
}
