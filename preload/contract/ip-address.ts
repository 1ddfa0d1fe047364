// A resource's address as the contract carries it: a canonical IPv4 dotted quad or the RFC 5952 text of
// an IPv6 address (issue 18). The console is sandboxed and may not import main/nd/addresses.ts, the
// strict parser every other input goes through, so this is the smallest reading that tells the stored
// spelling from any other: test/unit/ip-address.test.ts holds it to main/nd on the same vectors.
// Parsing what an operator typed (any RFC 4291 spelling, per-field messages) stays in
// main/cluster/validate.ts; the console's form only needs to know whether to send it.
import { isIpv4, ipv4ToNumber } from './ipv4';

/** Longest RFC 4291 text ("ffff:...:255.255.255.255"); anything longer is refused before it is read. */
export const MAX_IPV6_TEXT = 45;
/** Longest address a record may carry, either family. */
export const MAX_IP_TEXT = MAX_IPV6_TEXT;

const GROUP = /^[0-9a-fA-F]{1,4}$/;

/** The eight 16-bit words of any RFC 4291 spelling (no zone, no brackets, no prefix), or null. */
export function ipv6Words(text: unknown): number[] | null {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_IPV6_TEXT || !text.includes(':')) return null;
  const gap = text.indexOf('::');
  if (gap >= 0 && text.indexOf('::', gap + 1) >= 0) return null;
  const run = (part: string, tailAllowed: boolean): number[] | null => {
    if (part === '') return [];
    const groups = part.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const group = groups[i]!;
      if (group.includes('.')) {
        if (!tailAllowed || i !== groups.length - 1 || !isIpv4(group)) return null;
        const value = ipv4ToNumber(group);
        words.push(Math.floor(value / 0x10000), value % 0x10000);
      } else if (GROUP.test(group)) words.push(Number.parseInt(group, 16));
      else return null;
    }
    return words;
  };
  if (gap < 0) {
    const words = run(text, true);
    return words !== null && words.length === 8 ? words : null;
  }
  const head = run(text.slice(0, gap), false);
  const tail = run(text.slice(gap + 2), true);
  if (head === null || tail === null || head.length + tail.length > 7) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
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
