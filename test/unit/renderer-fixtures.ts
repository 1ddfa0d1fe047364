// Sample data for the renderer-*.test.ts files: contract-shaped values built field by field, so a
// test changes exactly what it is about.
import type { AuditEntry, ConflictRecord, NodeRecord, NodeState, ResourceState, ResourceView } from '../../preload/contract/domain';
import type { ChangePush, SnapshotPush } from '../../preload/contract/protocol';

export const T0 = 1_700_000_000_000;

export function node(name: string, state: NodeState = 'up'): NodeRecord {
  return { name, state, agentVersion: '0.1.0', lastSeen: T0, macs: { eth0: `02:00:00:00:00:${name.slice(-1).padStart(2, '0')}` } };
}

export interface ResourceOptions {
  owner?: string | null;
  state?: ResourceState;
  ownerMac?: string | null;
  since?: number;
  lastHandoffMs?: number | null;
  possibleOwners?: string[];
  preferredOwners?: string[];
  prefix?: number;
  enabled?: boolean;
  /** The group it belongs to (absent: none). */
  group?: string;
}

export function resource(name: string, ip: string, options: ResourceOptions = {}): ResourceView {
  const owner = options.owner === undefined ? 'n1' : options.owner;
  return {
    name,
    ip,
    prefix: options.prefix ?? 24,
    possibleOwners: options.possibleOwners ?? [],
    preferredOwners: options.preferredOwners ?? [],
    failback: { mode: 'never' },
    interfaces: {},
    enabled: options.enabled ?? true,
    announceForm: 'request',
    defendPolicy: 'always',
    ...(options.group === undefined ? {} : { group: options.group }),
    status: {
      name,
      state: options.state ?? (owner === null ? 'offline' : 'online'),
      owner,
      ownerMac: options.ownerMac === undefined ? (owner === null ? null : '02:00:00:00:00:01') : options.ownerMac,
      since: options.since ?? T0,
      failure: null,
      lastHandoffMs: options.lastHandoffMs === undefined ? null : options.lastHandoffMs,
    },
  };
}

export function conflict(address: string, theirMac: string, fields: Partial<ConflictRecord> = {}): ConflictRecord {
  return { node: 'n1', address, vlan: null, ourMac: '02:00:00:00:00:01', theirMac, theirVendor: null, resource: 'web', firstSeen: T0, lastSeen: T0 + 1_000, count: 1, defended: false, muted: false, ...fields };
}

export function audit(seq: number, fields: Partial<AuditEntry> = {}): AuditEntry {
  return { seq, at: T0 + seq, actor: 'cli:alice@127.0.0.1', action: 'resource.move', target: 'web', outcome: 'ok', detail: null, durationMs: 12, handoffMs: 0.8, ...fields };
}

export function snapshotPush(revision: number, parts: Partial<SnapshotPush['snapshot']> = {}): SnapshotPush {
  return { type: 'snapshot', revision, snapshot: { nodes: [], resources: [], conflicts: [], events: [], rejected: [], ...parts } };
}

export function changePush(revision: number, change: ChangePush['change']): ChangePush {
  return { type: 'change', revision, change };
}
