// What one IPv6 neighbour discovery frame tells a passive watcher about who is where (RFC 4861), read
// the way a neighbour cache reads it, so the watch's table holds what the stations on the link believe:
//
// - An advertisement binds its target to its target link-layer option (§7.2.5: the MAC a cache takes),
//   else to the Ethernet source (no option: the sender answers for itself). It is a claim ("target is
//   mine"), like an ARP reply; without the solicited flag it is IPv6's gratuitous ARP (§7.2.6).
// - A solicitation from a real source binds that source to its source link-layer option (§7.2.3: the
//   asker's entry a cache creates or updates), else to the Ethernet source. It says nothing about its
//   target, and claims nothing, like an ARP request.
// - A solicitation from :: is duplicate address detection (RFC 4862 §5.4.2, classifyNd 'dad-probe'): a
//   probe for its target that binds nothing, like an ARP probe.
// - A frame whose hop limit is not 255 came through a router (§7.1.1, §7.1.2): every host drops it, so it
//   binds nothing and raises nothing; it is only counted (nd/rules.ts isOnLink).
//
// The codec has already refused what breaks §7.1 (a multicast target or source, a link-layer option from
// ::); a target of :: is not refused there, and names no station: it binds nothing either.
import { classifyNd, type NdKind } from '../nd/builders';
import { UNSPECIFIED_IPV6, type Ipv6, type Mac, type NdFrame } from '../nd/frame';
import { isOnLink } from '../nd/rules';

export type NdMeaning =
  | { readonly kind: 'bind'; readonly frameKind: NdKind; readonly ip: Ipv6; readonly mac: Mac; readonly claim: boolean; readonly gratuitous: boolean }
  | { readonly kind: 'probe'; readonly target: Ipv6; readonly mac: Mac }
  | { readonly kind: 'off-link' }
  | { readonly kind: 'nothing' };

const OFF_LINK: NdMeaning = Object.freeze({ kind: 'off-link' });
const NOTHING: NdMeaning = Object.freeze({ kind: 'nothing' });

export function ndMeaning(frame: NdFrame, frameKind: NdKind = classifyNd(frame)): NdMeaning {
  if (!isOnLink(frame)) return OFF_LINK;
  const icmp = frame.icmp;
  if (icmp.type === 'na') {
    if (icmp.target === UNSPECIFIED_IPV6) return NOTHING;
    const gratuitous = frameKind === 'unsolicited-advertisement';
    return { kind: 'bind', frameKind, ip: icmp.target, mac: icmp.targetLinkAddr ?? frame.srcMac, claim: true, gratuitous };
  }
  // A DAD probe has no link-layer option (the codec refuses one from ::): the prober is the Ethernet source.
  if (frameKind === 'dad-probe') return { kind: 'probe', target: icmp.target, mac: frame.srcMac };
  return { kind: 'bind', frameKind, ip: frame.ipv6.src, mac: icmp.sourceLinkAddr ?? frame.srcMac, claim: false, gratuitous: false };
}
