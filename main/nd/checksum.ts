// The ICMPv6 checksum (RFC 4443 §2.3): the 16-bit one's complement of the one's complement sum of the
// IPv6 pseudo-header (RFC 8200 §8.1: source, destination, upper-layer length, next header 58) and the
// ICMPv6 message, checksum field included. A message is intact when that sum is 0xffff.
import { ICMPV6_NEXT_HEADER } from './frame';

const ADDRESS_BYTES = 16;

/** Adds the big-endian 16-bit words of `buf[from, from + count)` to `sum`; an odd last byte is padded with zero. */
function addWords(sum: number, buf: Uint8Array, from: number, count: number): number {
  let total = sum;
  const end = from + count;
  let at = from;
  for (; at + 1 < end; at += 2) total += ((buf[at] as number) << 8) | (buf[at + 1] as number);
  if (at < end) total += (buf[at] as number) << 8;
  return total;
}

function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  return folded;
}

/**
 * The folded one's complement sum over the pseudo-header and the `messageLength` bytes at `messageAt`,
 * with the addresses at `srcAt` and `dstAt` of the same buffer. Callers have checked every range.
 */
export function icmpv6Sum(buf: Uint8Array, srcAt: number, dstAt: number, messageAt: number, messageLength: number): number {
  let sum = addWords(0, buf, srcAt, ADDRESS_BYTES);
  sum = addWords(sum, buf, dstAt, ADDRESS_BYTES);
  // Upper-layer packet length (32 bits) and three zero bytes then the next header.
  sum += Math.floor(messageLength / 0x10000) + (messageLength & 0xffff) + ICMPV6_NEXT_HEADER;
  return fold(addWords(sum, buf, messageAt, messageLength));
}

/** The value for the checksum field, computed while that field holds zero. */
export function icmpv6Checksum(buf: Uint8Array, srcAt: number, dstAt: number, messageAt: number, messageLength: number): number {
  return ~icmpv6Sum(buf, srcAt, dstAt, messageAt, messageLength) & 0xffff;
}
