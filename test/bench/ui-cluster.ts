// The workload generator of `npm run bench:ui`: a synthetic ApiHandler (main/api/handler.ts)
// holding N generated IP resources over a few nodes, which emits resource state changes at a fixed
// rate through the handler's change stream. The API server, protocol, browser and renderer the
// bench drives are the real ones; only the cluster behind the handler is made up.
import type { ApiHandler, CommandResult, UpdateListener, VersionedSnapshot } from '../../main/api/handler';
import type { NodeRecord, ResourceState, ResourceView } from '../../preload/contract/domain';
import { seededRandom as prng } from '../seeded-random';


export function resourceName(index: number): string {
  return `vip-${String(index).padStart(5, '0')}`;
}

function macOf(nodeIndex: number): string {
  return `02:00:00:00:01:${(nodeIndex + 1).toString(16).padStart(2, '0')}`;
}

/** What a change may turn a resource into; mostly owner moves, some trouble. */
const CHANGE_STATES: readonly ResourceState[] = ['online', 'online', 'online', 'online-pending', 'offline-pending', 'offline', 'failed'];

export interface StreamStats {
  /** Changes emitted since the last startStream(). */
  emitted: number;
  /** Revision of the last change emitted. */
  lastRevision: number;
}

export class SyntheticCluster implements ApiHandler {
  readonly nodes: NodeRecord[];
  private readonly resources = new Map<string, ResourceView>();
  private readonly listeners = new Set<UpdateListener>();
  private readonly random: () => number;
  private revision = 1;
  private timer: NodeJS.Timeout | null = null;
  private streamStart = 0;
  private emittedThisStream = 0;
  /** Revisions of the snapshots handed out, oldest first (one per subscribing connection). */
  readonly snapshotRevisions: number[] = [];
  /** Name of the resource each revision changed, for the dropped-update check. */
  private readonly changedAt = new Map<number, string>();

  constructor(
    readonly resourceCount: number,
    readonly nodeCount: number,
    seed = 42,
  ) {
    this.random = prng(seed);
    const now = Date.now();
    this.nodes = Array.from({ length: nodeCount }, (_, i) => ({
      name: `n${i + 1}`,
      state: 'up' as const,
      agentVersion: '0.1.0',
      lastSeen: now,
      macs: { eth0: macOf(i) },
    }));
    for (let i = 0; i < resourceCount; i++) {
      const owner = i % nodeCount;
      const name = resourceName(i);
      const state: ResourceState = i % 97 === 0 ? 'failed' : i % 89 === 0 ? 'offline' : 'online';
      this.resources.set(name, {
        name,
        ip: `10.${100 + Math.floor(i / 65_536)}.${Math.floor(i / 256) % 256}.${i % 256}`,
        prefix: 16,
        possibleOwners: [],
        preferredOwners: [`n${owner + 1}`],
        failback: { mode: 'never' },
        interfaces: {},
        enabled: state !== 'offline',
        announceForm: 'request',
        defendPolicy: 'always',
        status: {
          name,
          state,
          owner: state === 'online' ? `n${owner + 1}` : null,
          ownerMac: state === 'online' ? macOf(owner) : null,
          since: now - Math.floor(this.random() * 86_400_000),
          failure: state === 'failed' ? { kind: 'no-eligible-node' } : null,
          lastHandoffMs: state === 'online' ? Math.round(this.random() * 4000) / 1000 : null,
        },
      });
    }
  }

  snapshot(): Promise<VersionedSnapshot> {
    this.snapshotRevisions.push(this.revision);
    return Promise.resolve({
      revision: this.revision,
      snapshot: { nodes: this.nodes, resources: [...this.resources.values()], conflicts: [], events: [], rejected: [] },
    });
  }

  subscribe(listener: UpdateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  execute(): Promise<CommandResult> {
    return Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'the synthetic bench cluster carries out no commands' } });
  }

  get currentRevision(): number {
    return this.revision;
  }

  resource(name: string): ResourceView | undefined {
    return this.resources.get(name);
  }

  /** Names changed by revisions in (from, to], newest first, without repeats. */
  changedBetween(from: number, to: number): string[] {
    const names = new Set<string>();
    for (let revision = to; revision > from; revision--) {
      const name = this.changedAt.get(revision);
      if (name !== undefined) names.add(name);
    }
    return [...names];
  }

  /** Emits `perSecond` changes a second (one revision each), paced by elapsed time, until stopStream(). */
  startStream(perSecond: number): void {
    this.stopStream();
    this.streamStart = performance.now();
    this.emittedThisStream = 0;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.streamStart) * perSecond) / 1000) - this.emittedThisStream;
      for (let i = 0; i < due; i++) this.emitOne();
    }, 5);
  }

  stopStream(): StreamStats {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    return { emitted: this.emittedThisStream, lastRevision: this.revision };
  }

  /** One resource changes state (an owner move, a pending state, a failure...): one change, one revision. */
  private emitOne(): void {
    const index = Math.floor(this.random() * this.resourceCount);
    const name = resourceName(index);
    const previous = this.resources.get(name);
    if (previous === undefined) return;
    const state = CHANGE_STATES[Math.floor(this.random() * CHANGE_STATES.length)] ?? 'online';
    const ownerIndex = Math.floor(this.random() * this.nodeCount);
    const held = state === 'online' || state === 'offline-pending';
    const next: ResourceView = {
      ...previous,
      status: {
        ...previous.status,
        state,
        owner: held ? `n${ownerIndex + 1}` : null,
        ownerMac: held ? macOf(ownerIndex) : null,
        since: Date.now(),
        failure: state === 'failed' ? { kind: 'conflict', mac: '02:00:00:00:09:99' } : null,
        lastHandoffMs: state === 'online' ? Math.round(this.random() * 4000) / 1000 : previous.status.lastHandoffMs,
      },
    };
    this.resources.set(name, next);
    this.revision += 1;
    this.emittedThisStream += 1;
    this.changedAt.set(this.revision, name);
    for (const listener of this.listeners) listener({ type: 'change', revision: this.revision, change: { kind: 'resource', resource: next } });
  }
}
