// What an ARP watch event means for the cluster. Plain ARP monitors see every failover as a MAC
// change and raise an alarm; the cluster knows which node holds each virtual address and which
// MACs belong to its nodes, so a change to the MAC of the node that now holds the address is an
// expected handoff, and anything else claiming one of our addresses is a conflict. Pure: the
// caller passes the facts (ClusterFacts) as they are at the time of the frame.
import type { Ipv4, Mac } from '../arp/frame';
import type { WatchEvent } from './events';

export interface VirtualAddressFacts {
  resource: string;
  /** The node that holds the address now according to the store, null when nobody does. */
  owner: string | null;
  /** The destination of a move under way, if any. */
  moveTarget: string | null;
}

/** The part of a Map that classify() reads: a caller may compute answers on demand. */
export interface Lookup<K, V> {
  get(key: K): V | undefined;
  has(key: K): boolean;
}

export interface ClusterFacts {
  /** Virtual addresses of the cluster's resources. */
  virtualByIp: Lookup<Ipv4, VirtualAddressFacts>;
  /** Every MAC of every cluster node, to its node. */
  nodeOfMac: Lookup<Mac, string>;
}

/** A station outside the cluster (or a node that does not hold it) claims a virtual address. */
export interface ConflictVerdict {
  kind: 'conflict';
  resource: string;
  ip: Ipv4;
  theirMac: Mac;
  /** The cluster node the claiming MAC belongs to, when it is one (two nodes answering). */
  theirNode: string | null;
}

/** The address moved to the MAC of the node that holds it (or is taking it over). */
export interface HandoffVerdict {
  kind: 'expected-handoff';
  resource: string;
  ip: Ipv4;
  fromMac: Mac;
  toMac: Mac;
  fromNode: string | null;
  toNode: string;
}

/**
 * A cluster node's MAC claims the address but the store does not (yet) name that node as its
 * holder: the frame may simply have overtaken the store's change. Decide again with newer facts;
 * only if it is still not explained after a grace period is it a conflict.
 */
export interface UnsettledVerdict {
  kind: 'unsettled';
  resource: string;
  ip: Ipv4;
  fromMac: Mac | null;
  toMac: Mac;
  toNode: string;
}

/** Two stations answer for an address that is not a virtual one (a plain misconfiguration). */
export interface DuplicateVerdict {
  kind: 'duplicate-address';
  ip: Ipv4;
  macs: readonly [Mac, Mac];
}

export type Verdict = ConflictVerdict | HandoffVerdict | UnsettledVerdict | DuplicateVerdict;

function mayHold(facts: VirtualAddressFacts, node: string): boolean {
  return facts.owner === node || facts.moveTarget === node;
}

/** A cluster MAC now answering for a virtual address: handoff, or unsettled until the store agrees. */
function clusterClaim(facts: VirtualAddressFacts, ip: Ipv4, fromMac: Mac | null, toMac: Mac, toNode: string, cluster: ClusterFacts): Verdict | null {
  if (!mayHold(facts, toNode)) return { kind: 'unsettled', resource: facts.resource, ip, fromMac, toMac, toNode };
  if (fromMac === null) return null;
  const fromNode = cluster.nodeOfMac.get(fromMac) ?? null;
  return { kind: 'expected-handoff', resource: facts.resource, ip, fromMac, toMac, fromNode, toNode };
}

/** A MAC claims a virtual address: whose is it? */
function claimOfVirtual(facts: VirtualAddressFacts, ip: Ipv4, fromMac: Mac | null, toMac: Mac, cluster: ClusterFacts): Verdict | null {
  const toNode = cluster.nodeOfMac.get(toMac);
  if (toNode === undefined) return { kind: 'conflict', resource: facts.resource, ip, theirMac: toMac, theirNode: null };
  return clusterClaim(facts, ip, fromMac, toMac, toNode, cluster);
}

/**
 * The cluster's reading of one watch event; null when the event says nothing the cluster must
 * record (a new station, a probe, a gratuitous ARP from the rightful holder, a storm — those stay
 * in the watch's own feed).
 */
export function classify(event: WatchEvent, cluster: ClusterFacts): Verdict | null {
  switch (event.type) {
    case 'changed-mac': {
      const facts = cluster.virtualByIp.get(event.ip);
      return facts ? claimOfVirtual(facts, event.ip, event.oldMac, event.newMac, cluster) : null;
    }
    case 'flip-flop': {
      const facts = cluster.virtualByIp.get(event.ip);
      return facts ? claimOfVirtual(facts, event.ip, event.macs[0], event.macs[1], cluster) : null;
    }
    case 'gratuitous':
    case 'new-station': {
      const facts = cluster.virtualByIp.get(event.ip);
      if (!facts) return null;
      const node = cluster.nodeOfMac.get(event.mac);
      if (node === undefined) return { kind: 'conflict', resource: facts.resource, ip: event.ip, theirMac: event.mac, theirNode: null };
      return mayHold(facts, node) ? null : { kind: 'unsettled', resource: facts.resource, ip: event.ip, fromMac: null, toMac: event.mac, toNode: node };
    }
    case 'duplicate-address': {
      const facts = cluster.virtualByIp.get(event.ip);
      if (!facts) return { kind: 'duplicate-address', ip: event.ip, macs: event.macs };
      // Both answering: the one that is not the rightful holder is the conflict.
      const [earlier, later] = event.macs;
      const laterNode = cluster.nodeOfMac.get(later);
      const intruder = laterNode !== undefined && mayHold(facts, laterNode) ? earlier : later;
      const intruderNode = cluster.nodeOfMac.get(intruder) ?? null;
      if (intruderNode !== null && mayHold(facts, intruderNode)) return null;
      return { kind: 'conflict', resource: facts.resource, ip: event.ip, theirMac: intruder, theirNode: intruderNode };
    }
    case 'conflict':
    case 'probe':
    case 'storm-start':
    case 'storm-end':
      return null;
  }
}

/** Facts from the cluster's records: resources (ip, name), owners, open moves, node MACs. */
export function clusterFacts(input: {
  resources: Iterable<{ name: string; ip: Ipv4 }>;
  ownerOf: (resource: string) => string | null;
  moveTargetOf: (resource: string) => string | null;
  nodes: Iterable<{ name: string; macs: Readonly<Record<string, Mac>> }>;
}): ClusterFacts {
  const virtualByIp = new Map<Ipv4, VirtualAddressFacts>();
  for (const { name, ip } of input.resources) virtualByIp.set(ip, { resource: name, owner: input.ownerOf(name), moveTarget: input.moveTargetOf(name) });
  const nodeOfMac = new Map<Mac, string>();
  for (const node of input.nodes) for (const mac of Object.values(node.macs)) nodeOfMac.set(mac, node.name);
  return { virtualByIp, nodeOfMac };
}
