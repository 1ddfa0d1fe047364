// A resource's address as the contract carries it: a canonical IPv4 dotted quad or the RFC 5952 text of
// an IPv6 address (issue 18). The IPv6 text parser is this one (readIpv6Words), with a reason for every
// refusal: the console, sandboxed, reads addresses with it, and main/nd/addresses.ts wraps it in the
// AddressError every other input gets; test/unit/ipv6-resources.test.ts holds the two to the same vectors.
// Parsing what an operator typed (any RFC 4291 spelling, per-field messages) stays in
// main/cluster/validate.ts; the console's form only needs to know whether to send it.
import { isIpv4, ipv4ToNumber } from './ipv4';

/** Longest RFC 4291 text ("ffff:...:255.255.255.255"); anything longer is refused before it is read. */
export const MAX_IPV6_TEXT = 45;
/** Longest address a record may carry, either family. */
export const MAX_IP_TEXT = MAX_IPV6_TEXT;

const WORDS = 8;
const MAX_WORD_DIGITS = 4;

/** Why `char` (at 0-based `index`) cannot be in an address: the common mistakes get their own words. */
function badCharacterReason(char: string, index: number): string {
  if (char === '%') return 'zone ids such as "%eth0" are not allowed: an address that moves between nodes belongs to no one interface';
  if (char === '/') return 'a prefix length belongs in address/prefix ("2001:db8::1/64"), not in an address';
  if (char === '[' || char === ']') return 'brackets belong in URLs ("[2001:db8::1]:443"), not in an address';
  if (/\s/.test(char)) return `white space at position ${index + 1} is not allowed`;
  return `${JSON.stringify(char)} at position ${index + 1} is not allowed: only hex digits, ":" and a dotted IPv4 tail`;
}

/** Why a dotted tail that is not a dotted quad is refused, for a caller with no words of its own. */
function ipv4TailReason(part: string): string {
  return `its IPv4 tail ${JSON.stringify(part)} is not a dotted quad like "192.0.2.1"`;
}

/**
 * The words of a run of groups written without "::" (all of a full address, or one side of the "::"), or
 * why not. `firstGroup` numbers the run's groups as written, for the reasons.
 */
function runWords(run: string, firstGroup: number, ipv4TailAllowed: boolean, tailReason: (part: string) => string): number[] | string {
  if (run === '') return [];
  const parts = run.split(':');
  const words: number[] = [];
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index]!;
    if (part === '') return index === 0 ? 'starts with a single ":" (leading zeros are written "::")' : 'ends with a single ":"';
    if (part.includes('.')) {
      if (!ipv4TailAllowed || index !== parts.length - 1) return 'a dotted IPv4 part is allowed only as the last 32 bits';
      if (!isIpv4(part)) return tailReason(part);
      const value = ipv4ToNumber(part);
      words.push(Math.floor(value / 0x10000), value % 0x10000);
      continue;
    }
    if (part.length > MAX_WORD_DIGITS) return `group ${firstGroup + index} ("${part}") has more than ${MAX_WORD_DIGITS} hex digits`;
    words.push(Number.parseInt(part, 16));
  }
  return words;
}

/**
 * The eight 16-bit words of any RFC 4291 spelling (no zone, no brackets, no prefix), or the reason the
 * text is not one, in words an administrator can be shown (main/nd/addresses.ts puts them in its
 * AddressError). `tailReason` words the refusal of a dotted tail that is not a dotted quad.
 */
export function readIpv6Words(text: unknown, tailReason: (part: string) => string = ipv4TailReason): number[] | string {
  if (typeof text !== 'string') return 'expected text like "2001:db8::1"';
  if (text.length === 0) return 'empty';
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (!/[0-9a-fA-F:.]/.test(char)) return badCharacterReason(char, i);
  }
  if (text.length > MAX_IPV6_TEXT) return `${text.length} characters; an IPv6 address has at most ${MAX_IPV6_TEXT}`;
  if (!text.includes(':')) return 'no ":" at all: an IPv4 address or a name is not an IPv6 address';
  if (text.includes(':::')) return 'three colons in a row';
  const gap = text.indexOf('::');
  if (gap < 0) {
    const words = runWords(text, 1, true, tailReason);
    if (typeof words === 'string' || words.length === WORDS) return words;
    return `expected 8 groups (or 6 and a dotted IPv4 tail), found ${words.length}; "::" abbreviates zeros`;
  }
  if (text.indexOf('::', gap + 1) >= 0) return 'only one "::" is allowed';
  const head = runWords(text.slice(0, gap), 1, false, tailReason);
  if (typeof head === 'string') return head;
  const tail = runWords(text.slice(gap + 2), head.length + 1, true, tailReason);
  if (typeof tail === 'string') return tail;
  const zeros = WORDS - head.length - tail.length;
  if (zeros < 1) return `"::" stands for at least one group of zeros, but ${head.length + tail.length} groups are written besides it`;
  return [...head, ...new Array<number>(zeros).fill(0), ...tail];
}

/** The eight 16-bit words of any RFC 4291 spelling (no zone, no brackets, no prefix), or null. */
export function ipv6Words(text: unknown): number[] | null {
  // Most text a sort compares is IPv4: refused before it is read character by character.
  if (typeof text !== 'string' || text.length > MAX_IPV6_TEXT || !text.includes(':')) return null;
  const words = readIpv6Words(text);
  return typeof words === 'string' ? null : words;
}

/** RFC 5952 text of eight words: lowercase, no leading zeros, "::" for the first longest run of ≥ 2 zeros, v4-mapped dotted. */
export function formatIpv6Words(words: readonly number[]): string {
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    const [high, low] = [words[6]!, words[7]!];
    return `::ffff:${high >>> 8}.${high & 0xff}.${low >>> 8}.${low & 0xff}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = (from: number, to: number): string => words.slice(from, to).map((w) => w.toString(16)).join(':');
  return bestStart < 0 ? hex(0, 8) : `${hex(0, bestStart)}::${hex(bestStart + bestLength, 8)}`;
}

/** Only the one stored spelling of an IPv6 address. */
export function isCanonicalIpv6(text: unknown): text is string {
  const words = ipv6Words(text);
  return words !== null && formatIpv6Words(words) === text;
}

/** Either family, stored spelling: what a resource's `ip` holds. */
export function isResourceIp(text: unknown): text is string {
  return typeof text === 'string' && (isIpv4(text) || isCanonicalIpv6(text));
}

export function isIpv6Text(text: unknown): boolean {
  return typeof text === 'string' && text.includes(':');
}

/** The widest prefix of the address's family: 32 or 128. */
export function maxPrefixOf(ip: string): number {
  return isIpv6Text(ip) ? 128 : 32;
}

/**
 * Every IPv4 address before every IPv6 one, numeric within each family; text that is neither first of
 * all (as compareIpv4 did), so a hostile value never throws in a sort.
 */
export function compareIpAddresses(a: string, b: string): number {
  const wordsA = ipv6Words(a);
  const wordsB = ipv6Words(b);
  if (wordsA === null && wordsB === null) return ipv4ToNumber(a) - ipv4ToNumber(b);
  if (wordsA === null) return -1;
  if (wordsB === null) return 1;
  for (let i = 0; i < 8; i++) {
    const difference = wordsA[i]! - wordsB[i]!;
    if (difference !== 0) return difference;
  }
  return 0;
}
