// What RFC 4861 §7.1.1 and §7.1.2 require of a valid solicitation or advertisement beyond its layout,
// judged on the bytes of the addresses. decode refuses a frame that breaks a rule and encode refuses to
// write one, so whatever the codec hands out is an ND message a host would accept — except the hop
// limit: decode reports it (isOnLink) rather than refusing it, because a watcher wants to see and
// count an ND frame that came through a router (a spoof from off the link), not lose it as "malformed".
import { isMulticastAt, isSolicitedNodeAt, isUnspecifiedAt } from './addresses';
import type { NdCodecErrorCode } from './codec-error';
import { ND_HOP_LIMIT, type NdFrame } from './frame';

/** The frame field a broken rule is about: encode names it, decode turns it into a byte offset. */
export type NdRuleField = 'ipv6.src' | 'ipv6.dst' | 'icmp.target' | 'icmp.solicited' | 'icmp.sourceLinkAddr';

export interface NdRuleBreak {
  code: NdCodecErrorCode;
  field: NdRuleField;
  reason: string;
}

/** Where the three addresses are in `buf`, and what the message says besides. */
export interface NdRuleInput {
  srcAt: number;
  dstAt: number;
  targetAt: number;
  type: 'ns' | 'na';
  /** The NA's S flag; false for a solicitation. */
  solicited: boolean;
  hasSourceLinkAddr: boolean;
}

/** The first rule the message breaks, or null. */
export function brokenNdRule(buf: Uint8Array, input: NdRuleInput): NdRuleBreak | null {
  if (isMulticastAt(buf, input.srcAt)) {
    return { code: 'MULTICAST_SOURCE', field: 'ipv6.src', reason: 'the source is a multicast address (RFC 4291 §2.7: only a destination may be)' };
  }
  if (isMulticastAt(buf, input.targetAt)) {
    const section = input.type === 'ns' ? '§7.1.1' : '§7.1.2';
    return { code: 'MULTICAST_TARGET', field: 'icmp.target', reason: `the target is a multicast address (RFC 4861 ${section})` };
  }
  if (input.type === 'ns' && isUnspecifiedAt(buf, input.srcAt)) {
    if (!isSolicitedNodeAt(buf, input.dstAt)) {
      return {
        code: 'BAD_DAD_DESTINATION',
        field: 'ipv6.dst',
        reason: 'a solicitation from :: (duplicate address detection) must go to a solicited-node group ff02::1:ffxx:xxxx (RFC 4861 §7.1.1)',
      };
    }
    if (input.hasSourceLinkAddr) {
      return {
        code: 'DAD_WITH_LINK_ADDR',
        field: 'icmp.sourceLinkAddr',
        reason: 'a solicitation from :: carries no source link-layer address option (RFC 4861 §7.1.1)',
      };
    }
  }
  if (input.type === 'na' && input.solicited && isMulticastAt(buf, input.dstAt)) {
    return {
      code: 'SOLICITED_TO_MULTICAST',
      field: 'icmp.solicited',
      reason: 'an advertisement to a multicast group has the solicited flag clear (RFC 4861 §7.1.2)',
    };
  }
  return null;
}

/**
 * RFC 4861 §7.1.1/§7.1.2: a host MUST drop ND whose hop limit is not 255 — a router on the way
 * decremented it, so it was sent from off the link. Decode reports the hop limit; act on it here.
 */
export function isOnLink(frame: Pick<NdFrame, 'ipv6'>): boolean {
  return frame.ipv6.hopLimit === ND_HOP_LIMIT;
}
