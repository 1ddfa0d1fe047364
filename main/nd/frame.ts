// The decoded shape of an Ethernet frame carrying IPv6 neighbour discovery (RFC 4861): a neighbour
// solicitation (ICMPv6 135) or advertisement (136). Shared by the codec (nd/codec.ts), the builders and
// whatever moves and watches IPv6 addresses. As in arp/frame.ts, addresses are canonical strings
// (RFC 5952 text, lowercase colon MACs): they are compared, logged and sent as JSON more than encoded.
import type { Mac } from '../arp/frame';

export type { Mac } from '../arp/frame';

/** Canonical IPv6 text (RFC 5952): lowercase, no leading zeros, the longest zero run as "::". */
export type Ipv6 = string;

export const ETHERTYPE_IPV6 = 0x86dd;
export const ICMPV6_NEXT_HEADER = 58;
/** RFC 4861 §7.1.1: a node drops ND with any other hop limit, as it may have come through a router. */
export const ND_HOP_LIMIT = 255;

export const UNSPECIFIED_IPV6: Ipv6 = '::';
/** The all-nodes multicast group (RFC 4291 §2.7.1) and its Ethernet group address (RFC 2464 §7). */
export const ALL_NODES_IPV6: Ipv6 = 'ff02::1';
export const ALL_NODES_MAC: Mac = '33:33:00:00:00:01';

export interface Ipv6Header {
  src: Ipv6;
  dst: Ipv6;
  /** Reported, not enforced by decode: see isOnLink in nd/codec.ts. */
  hopLimit: number;
}

/** "Who has target? Tell me" — or, from ::, "is anyone using target?" (duplicate address detection). */
export interface NeighborSolicitation {
  type: 'ns';
  target: Ipv6;
  /** The asker's MAC (option 1); absent when the source is :: (RFC 4861 §7.1.1 forbids it then). */
  sourceLinkAddr: Mac | null;
  /**
   * Present (true) when the first nonce option (RFC 7527) is the question mark, nd/options.ts
   * QUESTION_NONCE: a cluster node asking who holds target, not one about to take it (builders.ts
   * buildDadQuestion, isNdQuestion). Any other nonce is not decoded, so the field is absent.
   */
  question?: true;
}

/** "target is at targetLinkAddr". */
export interface NeighborAdvertisement {
  type: 'na';
  target: Ipv6;
  /** The sender is a router (R flag). */
  router: boolean;
  /** An answer to a solicitation (S flag); never set on one sent to a multicast group. */
  solicited: boolean;
  /** Replace a cached MAC for target (O flag): what moves an address to a new node. */
  override: boolean;
  /** The MAC target is at (option 2). */
  targetLinkAddr: Mac | null;
}

export type NdMessage = NeighborSolicitation | NeighborAdvertisement;

export interface NdFrame {
  dstMac: Mac;
  srcMac: Mac;
  /** 802.1Q VLAN id (0-4095) when the frame was tagged, else null. */
  vlan: number | null;
  ipv6: Ipv6Header;
  icmp: NdMessage;
}
