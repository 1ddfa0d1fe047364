// Builders for the ND frames the product sends, and the one classifier of received ones. Builders
// canonicalize their inputs, so a built frame compares equal to what decode returns for its bytes, and
// raise the codec's NdCodecError (BAD_MAC, BAD_IPV6, MULTICAST_TARGET) naming the argument.
import { canonicalMac } from '../arp/addresses';
import { canonicalIpv6, multicastMac, solicitedNodeAddress } from './addresses';
import { NdCodecError, parsingAddress } from './codec-error';
import { ALL_NODES_IPV6, ALL_NODES_MAC, ND_HOP_LIMIT, UNSPECIFIED_IPV6, type Ipv6, type Mac, type NdFrame, type NdMessage } from './frame';

function macArgument(builder: string, name: string, text: Mac): Mac {
  return parsingAddress(`${builder} ${name}`, () => canonicalMac(text));
}

function ipArgument(builder: string, name: string, text: Ipv6): Ipv6 {
  return parsingAddress(`${builder} ${name}`, () => canonicalIpv6(text));
}

function frameOf(dstMac: Mac, srcMac: Mac, src: Ipv6, dst: Ipv6, icmp: NdMessage): NdFrame {
  return { dstMac, srcMac, vlan: null, ipv6: { src, dst, hopLimit: ND_HOP_LIMIT }, icmp };
}

/** A solicitation for `target` to its solicited-node group, from `src` (:: for DAD). */
function solicitation(builder: string, mac: Mac, src: Ipv6, targetText: Ipv6, sourceLinkAddr: Mac | null, question = false): NdFrame {
  const target = ipArgument(builder, 'target', targetText);
  const group = parsingAddress(`${builder} target`, () => solicitedNodeAddress(target));
  const icmp: NdMessage = question ? { type: 'ns', target, sourceLinkAddr, question: true } : { type: 'ns', target, sourceLinkAddr };
  return frameOf(multicastMac(group), mac, src, group, icmp);
}

/**
 * RFC 4862 §5.4.2 duplicate address detection: "is anyone using target?" from ::, to the target's
 * solicited-node group, without a source link-layer option (RFC 4861 §7.1.1 forbids one from ::), so no
 * neighbour cache learns anything. Linux also adds a nonce option (RFC 7527) unless enhanced_dad is 0.
 */
export function buildDadProbe(ownMac: Mac, target: Ipv6): NdFrame {
  const mac = macArgument('buildDadProbe', 'ownMac', ownMac);
  return solicitation('buildDadProbe', mac, UNSPECIFIED_IPV6, target, null);
}

/**
 * A DAD probe that asks rather than claims, the IPv6 form of arp/codec.ts question(): buildDadProbe plus
 * a nonce option (RFC 7527) holding the fixed QUESTION_NONCE. A holder answers it like any DAD probe (an
 * NA to all nodes: Linux compares a DAD nonce only with the one of its own tentative address), while a
 * cluster's nodes, which know the value, tell it from the probe of a node about to register the address
 * (isNdQuestion). To anyone else it is a DAD probe, as the ARP question is an RFC 5227 probe.
 */
export function buildDadQuestion(ownMac: Mac, target: Ipv6): NdFrame {
  const mac = macArgument('buildDadQuestion', 'ownMac', ownMac);
  return solicitation('buildDadQuestion', mac, UNSPECIFIED_IPV6, target, null, true);
}

/** A DAD probe marked as a question (see buildDadQuestion). */
export function isNdQuestion(frame: Pick<NdFrame, 'ipv6' | 'icmp'>): boolean {
  return frame.icmp.type === 'ns' && frame.ipv6.src === UNSPECIFIED_IPV6 && frame.icmp.question === true;
}

/**
 * "Who has target? Tell ownIp at ownMac": what a standby sends to see whether the owner still answers.
 * Multicast to the target's solicited-node group, as Linux resolves an address it has no entry for.
 */
export function buildSolicitation(ownMac: Mac, ownIp: Ipv6, target: Ipv6): NdFrame {
  const mac = macArgument('buildSolicitation', 'ownMac', ownMac);
  const src = ipArgument('buildSolicitation', 'ownIp', ownIp);
  return solicitation('buildSolicitation', mac, src, target, mac);
}

function advertisement(target: Ipv6, solicited: boolean, mac: Mac): NdMessage {
  return { type: 'na', target, router: false, solicited, override: true, targetLinkAddr: mac };
}

/**
 * RFC 4861 §7.2.6: "target is at ownMac" to all nodes, override set so every cache takes the new MAC,
 * solicited clear. The IPv6 analogue of a gratuitous ARP, and what Linux sends after DAD with
 * ndisc_notify=1: from the target itself.
 */
export function buildUnsolicitedAdvertisement(ownMac: Mac, target: Ipv6): NdFrame {
  const mac = macArgument('buildUnsolicitedAdvertisement', 'ownMac', ownMac);
  const ip = ipArgument('buildUnsolicitedAdvertisement', 'target', target);
  return frameOf(ALL_NODES_MAC, mac, ip, ALL_NODES_IPV6, advertisement(ip, false, mac));
}

/**
 * RFC 4861 §7.2.6 sent to one station: "target is at targetMac", override set so its cache replaces the
 * MAC it holds, solicited clear (nobody asked), unicast to `toMac` / `toIp` from `ownMac` and from target
 * itself. What the old owner of a moved address tells a station still sending to it at the old MAC (a
 * straggler, main/agent/convergence-monitor.ts): the IPv6 form of its unicast ARP reply. The Ethernet
 * source is the sender's own, so switches keep learning targetMac on the new owner's port.
 */
export function buildUnicastAdvertisement(args: { ownMac: Mac; target: Ipv6; targetMac: Mac; toMac: Mac; toIp: Ipv6 }): NdFrame {
  const mac = macArgument('buildUnicastAdvertisement', 'ownMac', args.ownMac);
  const targetMac = macArgument('buildUnicastAdvertisement', 'targetMac', args.targetMac);
  const toMac = macArgument('buildUnicastAdvertisement', 'toMac', args.toMac);
  const target = ipArgument('buildUnicastAdvertisement', 'target', args.target);
  const toIp = ipArgument('buildUnicastAdvertisement', 'toIp', args.toIp);
  return frameOf(toMac, mac, target, toIp, advertisement(target, false, targetMac));
}

/**
 * RFC 4861 §7.2.4: the answer of the holder of `question`'s target. Unicast back to the asker with
 * solicited and override set; to all nodes with solicited clear when the asker is :: (a DAD probe,
 * whose sender has no address to answer to). On the question's VLAN; from the target address itself.
 * The asker's MAC is its source link-layer option, else the Ethernet source of the question.
 */
export function buildSolicitedAdvertisement(ownMac: Mac, question: NdFrame): NdFrame {
  const mac = macArgument('buildSolicitedAdvertisement', 'ownMac', ownMac);
  if (question.icmp.type !== 'ns') {
    throw new NdCodecError('BAD_TYPE', 'buildSolicitedAdvertisement question: an advertisement answers a solicitation ("ns"), not an "na"');
  }
  const target = ipArgument('buildSolicitedAdvertisement', 'question target', question.icmp.target);
  const asker = ipArgument('buildSolicitedAdvertisement', 'question source', question.ipv6.src);
  const answer =
    asker === UNSPECIFIED_IPV6
      ? frameOf(ALL_NODES_MAC, mac, target, ALL_NODES_IPV6, advertisement(target, false, mac))
      : frameOf(
          macArgument('buildSolicitedAdvertisement', 'question asker MAC', question.icmp.sourceLinkAddr ?? question.srcMac),
          mac,
          target,
          asker,
          advertisement(target, true, mac),
        );
  return { ...answer, vlan: question.vlan };
}

/** What an ND frame means to a node that moves addresses, judged from its fields alone. */
export type NdKind =
  /** A solicitation from :: : a node checking that target is free before it takes it (RFC 4862). */
  | 'dad-probe'
  /** A solicitation from an address: a node resolving target, or checking that it still answers. */
  | 'solicitation'
  /** An advertisement without the solicited flag: a node announcing target (a takeover, ndisc_notify). */
  | 'unsolicited-advertisement'
  /** An answer to a solicitation. */
  | 'solicited-advertisement';

/** The one classifier, like arp/codec.ts's classifyArp: so a frame is named the same in every log. */
export function classifyNd(frame: Pick<NdFrame, 'ipv6' | 'icmp'>): NdKind {
  if (frame.icmp.type === 'ns') return frame.ipv6.src === UNSPECIFIED_IPV6 ? 'dad-probe' : 'solicitation';
  return frame.icmp.solicited ? 'solicited-advertisement' : 'unsolicited-advertisement';
}
