// The event hooks' sender (effects; what to do next is main/hooks/delivery-plan.ts). One agent of the
// cluster delivers every hook's events: the one whose lease holds the store's hooksender key, created by
// compare-and-swap (claimHookSender). Every agent looks once a second; when the sender dies its lease
// ends, the key goes with it, and another agent takes it and goes on from each hook's stored cursor —
// the events the dead one had not delivered are delivered by the new one (an event it was delivering
// when it died is delivered again, with the same seq: at least once).
//
// Each hook has a worker: it reads the audit entries after its cursor, delivers the first it wants (in
// audit order: nothing after a failed entry goes before it), and writes the state at the revision it
// read, so a sender that lost the key without knowing (frozen, then back) cannot move a cursor back.
import type { NodeName } from '../cluster/model';
import { isStoreError, type ClusterStore, type HookEntry, type Membership, type StoreChange } from '../store/store';
import type { HookRecord, HookState } from '../../preload/contract/hooks';
import { afterAdvanced, afterDelivered, afterFailed, DEFAULT_BACKOFF, initialState, nextStep, pendingOf, type BackoffPolicy } from '../hooks/delivery-plan';
import { buildPayload } from '../hooks/payload';
import type { Deliver } from '../hooks/deliver';

/** Audit entries one worker reads at once (also the bound of a state's `pending`). */
export const HOOK_READ_LIMIT = 500;
const ELECTION_MS = 1_000;
/** A worker with nothing to do looks again this often even without news of the audit log. */
const IDLE_MS = 2_000;

export interface HookSenderOptions {
  node: NodeName;
  store: ClusterStore;
  membership(): Membership | null;
  onChange(listener: (change: StoreChange) => void): () => void;
  deliver: Deliver;
  log(line: string): void;
  /** Wall-clock ms. */
  now?: () => number;
  backoff?: BackoffPolicy;
  electionMs?: number;
}

interface Worker {
  hook: HookRecord;
  state: HookState | null;
  revision: number;
  running: boolean;
}

export class HookSender {
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => void) | null = null;
  private sender = false;
  private stopped = false;
  private electing = false;
  private readonly workers = new Map<string, Worker>();
  private wakers = new Set<() => void>();
  private readonly reported = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: HookSenderOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Whether this agent is the hooks' sender now. */
  get isSender(): boolean {
    return this.sender;
  }

  start(): void {
    this.unlisten = this.options.onChange((change) => {
      if (change.collection === 'audit' && change.kind === 'put') this.wakeAll();
      else if (change.collection === 'hooks' || change.collection === 'hooksender') void this.elect();
    });
    this.timer = setInterval(() => void this.elect(), this.options.electionMs ?? ELECTION_MS);
    void this.elect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.unlisten?.();
    this.demote();
  }

  private wakeAll(): void {
    const wakers = this.wakers;
    this.wakers = new Set();
    for (const wake of wakers) wake();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.wakers.add(done);
    });
  }

  private async elect(): Promise<void> {
    if (this.electing || this.stopped) return;
    this.electing = true;
    try {
      const membership = this.options.membership();
      if (membership === null || membership.ended) return this.demote();
      let current = await this.options.store.hookSender();
      if (current === null) current = (await this.options.store.claimHookSender(membership)).current;
      if (current?.leaseId !== membership.leaseId) return this.demote();
      if (!this.sender) this.options.log(`hooks: this agent is the hooks' sender (lease ${membership.leaseId})`);
      this.sender = true;
      await this.refreshHooks();
    } catch (error) {
      if (!isStoreError(error, 'closed')) this.options.log(`hooks: sender election: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.electing = false;
    }
  }

  private demote(): void {
    if (this.sender) this.options.log('hooks: this agent is no longer the hooks\' sender');
    this.sender = false;
    for (const worker of this.workers.values()) worker.running = false;
    this.workers.clear();
    this.wakeAll();
  }

  private async refreshHooks(): Promise<void> {
    const { hooks, rejected } = await this.options.store.hooks();
    for (const record of rejected) {
      const id = `${record.key}@${record.revision}`;
      if (this.reported.has(id)) continue;
      this.reported.add(id);
      this.options.log(`hooks: ${record.key} left out, never run: ${record.reason}`);
    }
    if (!this.sender) return;
    const wanted = new Map<string, HookEntry>(hooks.map((entry) => [entry.hook.name, entry]));
    for (const [name, worker] of this.workers) {
      const entry = wanted.get(name);
      // A hook removed, or replaced by another of the same name: its worker ends (a new one starts below).
      if (entry === undefined || JSON.stringify(entry.hook) !== JSON.stringify(worker.hook)) {
        worker.running = false;
        this.workers.delete(name);
      }
    }
    for (const [name, entry] of wanted) {
      if (this.workers.has(name)) continue;
      const worker: Worker = { hook: entry.hook, state: null, revision: 0, running: true };
      this.workers.set(name, worker);
      void this.run(worker);
    }
    this.wakeAll();
  }

  private async loadState(worker: Worker): Promise<void> {
    // A hook removed meanwhile (its state went with it): the worker ends rather than write a state for nothing.
    if (!(await this.options.store.hooks()).hooks.some((entry) => entry.hook.name === worker.hook.name)) {
      worker.running = false;
      if (this.workers.get(worker.hook.name) === worker) this.workers.delete(worker.hook.name);
      return;
    }
    const stored = (await this.options.store.hookStates()).find((entry) => entry.state.name === worker.hook.name);
    worker.state = stored?.state ?? initialState(worker.hook, this.options.node);
    worker.revision = stored?.revision ?? 0;
  }

  /** Writes the worker's next state at the revision read; false when someone else wrote it meanwhile (it is read again). */
  private async save(worker: Worker, state: HookState): Promise<boolean> {
    if (!worker.running) return false;
    try {
      worker.revision = await this.options.store.putHookState({ ...state, sender: this.options.node }, worker.revision);
      worker.state = { ...state, sender: this.options.node };
      return true;
    } catch (error) {
      if (!isStoreError(error, 'conflict')) throw error;
      await this.loadState(worker);
      return false;
    }
  }

  private async run(worker: Worker): Promise<void> {
    const { hook } = worker;
    while (worker.running && this.sender && !this.stopped) {
      try {
        if (worker.state === null) await this.loadState(worker);
        if (!worker.running || worker.state === null) break;
        const state = worker.state;
        const entries = await this.options.store.audit({ sinceSeq: state.cursor, limit: HOOK_READ_LIMIT });
        const pending = pendingOf(hook, entries);
        const step = nextStep(hook, state, entries, this.now());
        switch (step.kind) {
          case 'idle':
            if (state.pending !== 0) await this.save(worker, afterAdvanced(state, state.cursor, 0));
            await this.sleep(IDLE_MS);
            break;
          case 'advance':
            await this.save(worker, afterAdvanced(state, step.cursor, 0));
            break;
          case 'lost': {
            const error = `audit entries ${step.from}-${step.to} left the audit log (its retention) before they were delivered`;
            this.options.log(`hooks: ${hook.name}: ${error}`);
            await this.save(worker, afterAdvanced(state, step.cursor, pending, error));
            break;
          }
          case 'wait':
            if (state.pending !== pending) await this.save(worker, { ...state, pending });
            await this.sleep(step.untilMs - this.now());
            break;
          case 'deliver': {
            const result = await this.options.deliver(hook.target, buildPayload(hook.name, step.entry));
            if (!worker.running) break;
            const now = this.now();
            if (result.ok) {
              await this.save(worker, afterDelivered(state, step.entry.seq, now, pending - 1));
            } else {
              const next = afterFailed(state, step.entry.seq, now, result.detail, pending, this.options.backoff ?? DEFAULT_BACKOFF);
              this.options.log(`hooks: ${hook.name}: seq ${step.entry.seq} not delivered (attempt ${next.failures}, next in ${next.nextAttemptAt! - now} ms): ${result.detail}`);
              await this.save(worker, next);
            }
            break;
          }
        }
      } catch (error) {
        if (isStoreError(error, 'closed')) return;
        this.options.log(`hooks: ${hook.name}: ${error instanceof Error ? error.message : String(error)}`);
        await this.sleep(1_000);
      }
    }
  }
}
