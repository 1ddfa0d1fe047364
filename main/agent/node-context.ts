// What every part of the agent reads: who this node is, the store, the machine, the addresses it
// holds, its mirror of the store and its membership. agent.ts builds one and hands it to each part,
// so a part names only what it uses of the others.
import type { NodeName, ResourceName } from '../cluster/model';
import type { Host } from '../host/host';
import type { ClusterStore, Membership } from '../store/store';
import type { ClusterView } from './cluster-view';
import type { LocalAddresses } from './local-addresses';

export type AgentEvent =
  | { type: 'fenced'; reason: string; addresses: number }
  | { type: 'lease-lost'; reason: string }
  | { type: 'joined'; leaseId: string }
  | { type: 'holding'; resource: ResourceName }
  | { type: 'released'; resource: ResourceName };

export interface NodeContext {
  readonly node: NodeName;
  readonly store: ClusterStore;
  readonly host: Host;
  readonly local: LocalAddresses;
  /** The local mirror of the store (replaced on every resync: read it through this, never keep it). */
  view(): ClusterView;
  membership(): Membership | null;
  /** The lease was confirmed recently enough to act as a member (cluster/fencing.ts). */
  leaseHealthy(): boolean;
  /** Addresses were dropped for want of a confirmed lease, and not yet taken back. */
  fenced(): boolean;
  emit(event: AgentEvent): void;
  log(line: string): void;
}
