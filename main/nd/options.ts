// Neighbour discovery options (RFC 4861 §4.6): type, length in units of 8 bytes, data. Only the
// link-layer address options are read — 1, the source's MAC, in a solicitation; 2, the target's MAC, in
// an advertisement — and every other option is stepped over (§4.6: receivers MUST skip unknown ones):
// Linux's DAD nonce (RFC 7527, type 14), and the link-layer option that does not belong to the message.
// The one nonce a solicitation is checked for is the product's question mark (QUESTION_NONCE); any other
// nonce is stepped over as before.
import { formatMac } from '../arp/addresses';
import type { Mac } from '../arp/frame';
import { NdCodecError } from './codec-error';

export const OPTION_SOURCE_LINK_ADDR = 1;
export const OPTION_TARGET_LINK_ADDR = 2;
/** RFC 7527 (RFC 3971 §5.3.2): the nonce Linux puts in its DAD solicitations to recognise its own looped back. */
export const OPTION_NONCE = 14;
/** Type, length 1, six bytes: the only nonce Linux reads (a longer one it ignores, so we do too). */
export const NONCE_OPTION_BYTES = 8;
/**
 * The nonce of a cluster node's question (nd/builders.ts buildDadQuestion): ASCII "ipfo??". A fixed value
 * so peers can tell a question from a DAD probe; a holder's kernel compares a DAD nonce only with the one
 * of its own tentative address (RFC 7527 §4.2), so it answers a question like any DAD probe.
 */
export const QUESTION_NONCE: readonly number[] = Object.freeze([0x69, 0x70, 0x66, 0x6f, 0x3f, 0x3f]);
/** Type, length 1, a 6-byte MAC: the only size of a link-layer address option on Ethernet (RFC 2464 §6). */
export const LINK_ADDR_OPTION_BYTES = 8;
const OPTION_UNIT = 8;

export interface FoundLinkAddr {
  mac: Mac;
  /** Where the option starts in the buffer. */
  at: number;
}

function optionName(type: number): string {
  return type === OPTION_SOURCE_LINK_ADDR ? 'source link-layer address option' : 'target link-layer address option';
}

/**
 * The link-layer address option of type `wanted` among the options in `buf[from, end)`, or null. Every
 * option's length is checked, wanted or not: one that is zero or runs past `end` fails the message
 * (RFC 4861 §4.6, §7.1.1), since the options after it cannot be found.
 */
export function readLinkAddrOption(buf: Uint8Array, from: number, end: number, wanted: number): FoundLinkAddr | null {
  let found: FoundLinkAddr | null = null;
  for (let at = from; at < end; ) {
    if (end - at < 2) {
      throw new NdCodecError('OPTION_OVERRUN', `malformed ND: an option at byte ${at} needs 2 bytes for its type and length, the message has ${end - at} left`, at);
    }
    const type = buf[at] as number;
    const units = buf[at + 1] as number;
    if (units === 0) {
      throw new NdCodecError('ZERO_LENGTH_OPTION', `malformed ND: option ${type} has length 0 at byte ${at + 1} (RFC 4861 §4.6: a node must drop it)`, at + 1);
    }
    const size = units * OPTION_UNIT;
    if (size > end - at) {
      throw new NdCodecError(
        'OPTION_OVERRUN',
        `malformed ND: option ${type} at byte ${at} is ${size} bytes (length ${units} at byte ${at + 1}), the message has ${end - at} left`,
        at + 1,
      );
    }
    if (type === wanted) {
      if (size !== LINK_ADDR_OPTION_BYTES) {
        throw new NdCodecError(
          'BAD_LINK_ADDR_OPTION',
          `malformed ND: the ${optionName(type)} has length ${units} at byte ${at + 1}; an Ethernet address takes length 1`,
          at + 1,
        );
      }
      if (found !== null) {
        throw new NdCodecError('DUPLICATE_OPTION', `malformed ND: a second ${optionName(type)} at byte ${at} (the first is at byte ${found.at})`, at);
      }
      found = { mac: formatMac(buf, at + 2), at };
    }
    at += size;
  }
  return found;
}

/**
 * Whether the first nonce option among the options in `buf[from, end)` is QUESTION_NONCE. The first one
 * only, and only with length 1: Linux (ndisc_parse_options) keeps the first nonce option and reads its
 * six bytes only when its length is 1. Call it after readLinkAddrOption, which checked every length.
 */
export function hasQuestionNonce(buf: Uint8Array, from: number, end: number): boolean {
  for (let at = from; at + 1 < end; ) {
    const units = buf[at + 1] as number;
    // A length readLinkAddrOption refuses ends the walk here too, so a misordered call cannot loop.
    if (units === 0 || at + units * OPTION_UNIT > end) return false;
    if (buf[at] === OPTION_NONCE) return units === 1 && QUESTION_NONCE.every((byte, index) => buf[at + 2 + index] === byte);
    at += units * OPTION_UNIT;
  }
  return false;
}

/** Writes the question's nonce option at `at` (NONCE_OPTION_BYTES bytes). */
export function writeQuestionNonce(buf: Uint8Array, at: number): void {
  buf[at] = OPTION_NONCE;
  buf[at + 1] = 1;
  buf.set(QUESTION_NONCE, at + 2);
}
