// The cluster's vocabulary: nodes, IP resources and their states. Plain data (JSON-safe) so that the
// store, the agent API and the console all carry the same objects. Validation lives in validate.ts,
// placement decisions in placement.ts.
import type { Ipv4, Mac } from '../arp/frame';
import type { AnnounceForm, DefendPolicy } from '../arp/acd-config';

export type NodeName = string;
export type ResourceName = string;

export type NodeState = 'up' | 'down' | 'paused';

export interface NodeRecord {
  name: NodeName;
  state: NodeState;
  agentVersion: string;
  /** Wall-clock ms of the last heartbeat the cluster saw. */
  lastSeen: number;
  /** MAC per interface, as the agent reported them (lets peers recognise each other's ARP). */
  macs: Record<string, Mac>;
}

/**
 * What happens when a more preferred owner comes back: move back at once, in a window, or never.
 * The window is [startHour, endHour) in the nodes' local hours (0..23, start != end) and may wrap
 * midnight: 22..6 allows 22:00 to 05:59. See failback.ts.
 */
export type FailbackPolicy = { mode: 'never' } | { mode: 'immediate' } | { mode: 'window'; startHour: number; endHour: number };

/** An IP resource as the operator defines it. */
export interface ResourceSpec {
  name: ResourceName;
  ip: Ipv4;
  /** 1..32. */
  prefix: number;
  /** Nodes allowed to hold the address; empty = every node. */
  possibleOwners: NodeName[];
  /** Ordered preference (a subset of possible owners); the first live one is the best. */
  preferredOwners: NodeName[];
  failback: FailbackPolicy;
  /** Interface per node; a node without an entry uses the interface already in the resource's subnet. */
  interfaces: Record<NodeName, string>;
  /** Operator wants it online (true) or offline (false). */
  enabled: boolean;
  announceForm: AnnounceForm;
  defendPolicy: DefendPolicy;
}

export type ResourceState = 'offline' | 'online-pending' | 'online' | 'offline-pending' | 'failed';

export type FailureReason =
  | { kind: 'conflict'; mac: Mac }
  | { kind: 'no-eligible-node' }
  | { kind: 'interface-missing'; node: NodeName; detail: string }
  | { kind: 'register-failed'; node: NodeName; detail: string };

/** What the cluster observes about a resource. */
export interface ResourceStatus {
  name: ResourceName;
  state: ResourceState;
  owner: NodeName | null;
  ownerMac: Mac | null;
  /** Wall-clock ms since the current state began. */
  since: number;
  failure: FailureReason | null;
  /** Client-visible gap of the last handoff, ms (null before the first). */
  lastHandoffMs: number | null;
}
