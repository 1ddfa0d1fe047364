// Events the ARP watch raises, as plain JSON-safe objects: they go to the CLI, the agent
// protocol and the renderer unchanged. `at` is the injected clock's time (ms) of the frame
// (or tick) that caused the event. `vlan` is the 802.1Q id of the frame, null when untagged:
// bindings on different VLANs are separate LANs and never interfere.
import type { ArpKind } from '../arp/codec';
import type { Ipv4, Mac } from '../arp/frame';

/** First time this IP is seen as a sender (also after its binding was evicted). */
export interface NewStationEvent {
  type: 'new-station';
  at: number;
  vlan: number | null;
  ip: Ipv4;
  mac: Mac;
  vendor: string | null;
}

/** The IP moved to a MAC not seen for it within the flip-flop window (a move, a NIC swap). */
export interface ChangedMacEvent {
  type: 'changed-mac';
  at: number;
  vlan: number | null;
  ip: Ipv4;
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
  ip: Ipv4;
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
  ip: Ipv4;
  /** [earlier claimant, later claimant]. */
  macs: readonly [Mac, Mac];
}

export interface GratuitousEvent {
  type: 'gratuitous';
  at: number;
  vlan: number | null;
  ip: Ipv4;
  mac: Mac;
  form: 'request' | 'reply';
}

/** A station is checking whether targetIp is free; probes never create bindings. */
export interface ProbeEvent {
  type: 'probe';
  at: number;
  vlan: number | null;
  targetIp: Ipv4;
  mac: Mac;
}

/** Another MAC used, as sender IP, an address this host holds. Raised for every such frame (defence is rate-limited elsewhere). */
export interface ConflictEvent {
  type: 'conflict';
  at: number;
  vlan: number | null;
  ip: Ipv4;
  /** This host's MAC for the address, when known (given with setHeld or seen on the wire). */
  ourMac: Mac | null;
  theirMac: Mac;
  frameKind: ArpKind;
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
