// The half of the conflict-detection machine (arp/acd.ts) that depends on the address family: which
// frames it reads (ARP for an IPv4 address, neighbour discovery for an IPv6 one), what a frame says about
// the address, and the frames it sends. Everything the state handlers decide on comes out of read() as
// a FrameReading, so the handlers stay one per input and never ask which family they run.
//
// What a frame says, per family (the header of acd.ts says what the machine does with it):
// - claims: our address is in use by the frame's station. ARP: sender IP = our IP. ND: an advertisement
//   whose target is our IP (how a holder answers a DAD probe, and how it announces), or a solicitation or
//   advertisement whose IPv6 source is our IP (a station using the address).
// - probes: a station checks whether our address is free. ARP: a request from 0.0.0.0 for it (RFC 5227
//   §2.1.1). ND: a solicitation from :: for it (duplicate address detection, RFC 4862 §5.4.3).
// - question: a probe marked as a cluster node's question (arp/codec.ts isQuestion, nd/builders.ts
//   isNdQuestion: the RFC 7527 nonce option holding QUESTION_NONCE).
// - mac: the station it is held against. ARP: the sender MAC (a spoofer may forge the Ethernet source).
//   ND: the link-layer option when it names the MAC of our address — the target link-layer option of an
//   advertisement for our IP, the source link-layer option of a solicitation from our IP — and the
//   Ethernet source otherwise (a DAD probe carries no option; an advertisement for another target from
//   our IP names that target's MAC, not the sender's).
//
// read() returns null for a frame the machine never acts on: the other family's (a shared socket may
// hand in both), our own echoed back by the capture (Ethernet source, ARP sender MAC or ND link-layer
// option = our MAC), and ND that came from off the link (hop limit not 255: RFC 4861 §7.1.1/§7.1.2, every
// host drops it, so it moves no cache and answers no probe of ours).
//
// Frames sent: the codec's builders, untagged. ND announcements are unsolicited advertisements with the
// override flag to all nodes, one per announcement whatever announceForm says: announceForm picks among
// ARP's request and reply forms, and ND has only one form that every cache takes.

import { isIpv4 } from './addresses';
import { announcement, classifyArp, gratuitousReply, isQuestion, probe, question, type ArpKind } from './codec';
import { ZERO_IP, type ArpFrame, type Ipv4, type Mac } from './frame';
import type { AnnounceForm } from './acd-config';
import { isCanonicalIpv6, notHostReason } from '../nd/addresses';
import { buildDadProbe, buildDadQuestion, buildUnsolicitedAdvertisement, classifyNd, isNdQuestion, type NdKind } from '../nd/builders';
import { UNSPECIFIED_IPV6, type Ipv6, type NdFrame } from '../nd/frame';
import { isOnLink } from '../nd/rules';

/** What the machine reads and sends: ARP for an IPv4 address, neighbour discovery for an IPv6 one. */
export type AcdFrame = ArpFrame | NdFrame;
/** How a conflicting frame looked on the wire (codec.ts classifyArp, nd/builders.ts classifyNd). */
export type AcdFrameKind = ArpKind | NdKind;
/** Fixed by the identity's address. */
export type AcdFamily = 'ipv4' | 'ipv6';

export function isNdFrame(frame: AcdFrame): frame is NdFrame {
  return 'icmp' in frame;
}

export function isArpFrame(frame: AcdFrame): frame is ArpFrame {
  return 'arp' in frame;
}

/** What one received frame says about our address (see the header). */
export interface FrameReading {
  mac: Mac;
  claims: boolean;
  probes: boolean;
  question: boolean;
  kind: AcdFrameKind;
}

export interface FamilyFrames {
  readonly family: AcdFamily;
  /** null: a frame the machine never acts on (see the header). */
  read(frame: AcdFrame): FrameReading | null;
  probe(): AcdFrame;
  question(): AcdFrame;
  /** One announcement's frames, in order. */
  announcement(form: AnnounceForm): AcdFrame[];
  /** The kind a claim reported by another node is logged as: the answer that node was sent. */
  readonly reportedKind: AcdFrameKind;
}

/**
 * The family of a claimable address, or an Error naming what is wrong: canonical IPv4 other than 0.0.0.0,
 * or canonical IPv6 (RFC 5952) that a node can hold (not ::, ::1, multicast or IPv4-mapped).
 */
export function acdFamilyOf(ip: unknown): AcdFamily {
  if (typeof ip === 'string' && ip.includes(':')) {
    if (!isCanonicalIpv6(ip)) {
      throw new Error(`ACD identity: ip must be a canonical IPv6 address, RFC 5952 text such as "2001:db8::5" (got ${JSON.stringify(ip)})`);
    }
    const reason = notHostReason(ip);
    if (reason !== null) throw new Error(`ACD identity: ip must be an IPv6 address a node can hold (got ${JSON.stringify(ip)}: ${reason})`);
    return 'ipv6';
  }
  if (!isIpv4(ip) || ip === ZERO_IP) {
    throw new Error(`ACD identity: ip must be a canonical IPv4 address other than 0.0.0.0 (got ${JSON.stringify(ip)})`);
  }
  return 'ipv4';
}

/** The reader and builders for `ip` (already checked by acdFamilyOf) and `mac`. */
export function familyFrames(family: AcdFamily, ip: string, mac: Mac): FamilyFrames {
  return family === 'ipv4' ? arpFrames(ip, mac) : ndFrames(ip, mac);
}

function arpFrames(ip: Ipv4, mac: Mac): FamilyFrames {
  return {
    family: 'ipv4',
    read(frame) {
      if (!isArpFrame(frame)) return null;
      const { arp } = frame;
      if (frame.src === mac || arp.senderMac === mac) return null;
      return {
        mac: arp.senderMac,
        claims: arp.senderIp === ip,
        probes: arp.op === 'request' && arp.senderIp === ZERO_IP && arp.targetIp === ip,
        question: isQuestion(arp),
        kind: classifyArp(arp),
      };
    },
    probe: () => probe(mac, ip),
    question: () => question(mac, ip),
    announcement(form) {
      switch (form) {
        case 'request':
          return [announcement(mac, ip)];
        case 'reply':
          return [gratuitousReply(mac, ip)];
        case 'both':
          return [announcement(mac, ip), gratuitousReply(mac, ip)];
      }
    },
    // A node that asks with a request hears a claim as the reply sent to it.
    reportedKind: 'reply',
  };
}

function ndFrames(ip: Ipv6, mac: Mac): FamilyFrames {
  return {
    family: 'ipv6',
    read(frame) {
      if (!isNdFrame(frame)) return null;
      const { icmp, ipv6 } = frame;
      const linkAddr = icmp.type === 'ns' ? icmp.sourceLinkAddr : icmp.targetLinkAddr;
      if (frame.srcMac === mac || linkAddr === mac || !isOnLink(frame)) return null;
      const advertisesOurs = icmp.type === 'na' && icmp.target === ip;
      const fromOurs = ipv6.src === ip;
      const optionNamesOurs = advertisesOurs || (icmp.type === 'ns' && fromOurs);
      return {
        mac: optionNamesOurs ? (linkAddr ?? frame.srcMac) : frame.srcMac,
        claims: advertisesOurs || fromOurs,
        probes: icmp.type === 'ns' && ipv6.src === UNSPECIFIED_IPV6 && icmp.target === ip,
        question: isNdQuestion(frame),
        kind: classifyNd(frame),
      };
    },
    probe: () => buildDadProbe(mac, ip),
    question: () => buildDadQuestion(mac, ip),
    announcement: () => [buildUnsolicitedAdvertisement(mac, ip)],
    // A node that asks with a solicitation from its own address hears a claim as the solicited answer.
    reportedKind: 'solicited-advertisement',
  };
}
