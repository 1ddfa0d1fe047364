// Events the ARP watch raises, as plain JSON-safe objects: they go to the CLI, the agent
// protocol and the renderer unchanged. `at` is the injected clock's time (ms) of the frame
// (or tick) that caused the event. `vlan` is the 802.1Q id of the frame, null when untagged:
// bindings on different VLANs are separate LANs and never interfere.
//
// The same events come from IPv6 neighbour discovery (BindingTracker.observeNd): an IPv6 address is
// RFC 5952 text, a dotted quad is IPv4, so the address tells the protocol and the two never share a
// binding. Only `gratuitous.form` and `conflict.frameKind` name the ND message besides.
import type { ArpKind } from '../arp/codec';
import type { Mac } from '../arp/frame';
import type { NdKind } from '../nd/builders';

/** An address the watch binds: an Ipv4 dotted quad (ARP) or Ipv6 RFC 5952 text (ND); both are strings. */
export type WatchedIp = string;

/** How the frame behind an event looked on the wire: classifyArp's kinds, or classifyNd's. */
export type WatchFrameKind = ArpKind | NdKind;

/** First time this IP is seen as a sender (also after its binding was evicted). */
export interface NewStationEvent {
  type: 'new-station';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  mac: Mac;
  vendor: string | null;
}

/** The IP moved to a MAC not seen for it within the flip-flop window (a move, a NIC swap). */
export interface ChangedMacEvent {
  type: 'changed-mac';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  oldMac: Mac;
  newMac: Mac;
}

/**
 * The IP went back to a MAC it had within the flip-flop window. Raised instead of
 * changed-mac, once per episode: further alternation between the same two MACs is folded
 * until the pair has been stable for a whole window.
 */
export interface FlipFlopEvent {
  type: 'flip-flop';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  /** [from, to] of the change that revealed the flip-flop. */
  macs: readonly [Mac, Mac];
}

/**
 * Two MACs claimed (replied or announced) the IP within the duplicate window. Once per
 * episode, like flip-flop.
 */
export interface DuplicateAddressEvent {
  type: 'duplicate-address';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  /** [earlier claimant, later claimant]. */
  macs: readonly [Mac, Mac];
}

export interface GratuitousEvent {
  type: 'gratuitous';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  mac: Mac;
  /** ARP: an announcement (request) or a gratuitous reply; ND: an advertisement without the solicited flag. */
  form: 'request' | 'reply' | 'advertisement';
}

/** A station is checking whether targetIp is free (an ARP probe, an ND DAD solicitation from ::); probes never create bindings. */
export interface ProbeEvent {
  type: 'probe';
  at: number;
  vlan: number | null;
  targetIp: WatchedIp;
  mac: Mac;
}

/** Another MAC used, as sender IP, an address this host holds. Raised for every such frame (defence is rate-limited elsewhere). */
export interface ConflictEvent {
  type: 'conflict';
  at: number;
  vlan: number | null;
  ip: WatchedIp;
  /** This host's MAC for the address, when known (given with setHeld or seen on the wire). */
  ourMac: Mac | null;
  theirMac: Mac;
  frameKind: WatchFrameKind;
}

/** More frames than the threshold in the last second on this interface. */
export interface StormStartEvent {
  type: 'storm-start';
  at: number;
  /** Frames in the last second when the storm was detected. */
  rate: number;
}

/** The rate fell below the quiet level. */
export interface StormEndEvent {
  type: 'storm-end';
  at: number;
  /** Frames in the last second when the storm was declared over. */
  rate: number;
  durationMs: number;
  /** Frames observed from storm-start to storm-end. */
  frames: number;
}

export type WatchEvent =
  | NewStationEvent
  | ChangedMacEvent
  | FlipFlopEvent
  | DuplicateAddressEvent
  | GratuitousEvent
  | ProbeEvent
  | ConflictEvent
  | StormStartEvent
  | StormEndEvent;

export type WatchEventType = WatchEvent['type'];
