// One connection's subscription: a snapshot, then every later change exactly once, in order.
//
// The handler is subscribed to BEFORE the snapshot is taken; changes that arrive meanwhile are
// held back, and once the snapshot (at revision R) is out, the held changes above R follow it.
// Subscribing after the snapshot instead would lose whatever changed in between.
// A 'reset' from the handler, or more held-back changes than maxHeld (a very slow snapshot under a
// storm of changes), start over with a fresh snapshot: the client replaces its state wholesale.
import type { ChangePush, Push, SnapshotPush } from '../../preload/contract/protocol';
import type { ApiHandler, ApiUpdate } from './handler';

export interface StreamSink {
  push(message: Push): void;
  /** The stream cannot continue (a later snapshot failed); the connection should close. */
  fail(reason: string): void;
}

/** Held-back changes beyond which a fresh snapshot is cheaper than replaying them. */
export const DEFAULT_MAX_HELD_CHANGES = 50_000;

export class StreamSession {
  private state: 'loading' | 'live' | 'closed' = 'loading';
  private held: ChangePush[] = [];
  private reloadWanted = false;
  private snapshotRevision = -1;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly handler: ApiHandler,
    private readonly sink: StreamSink,
    private readonly maxHeld = DEFAULT_MAX_HELD_CHANGES,
  ) {}

  /**
   * Subscribes and pushes the first snapshot; `beforeChanges` runs after that push and before any
   * change push (the server sends the subscribe reply there). Rejects when the first snapshot
   * cannot be taken; the session is closed then.
   */
  async start(beforeChanges: (revision: number) => void): Promise<void> {
    this.unsubscribe = this.handler.subscribe((update) => this.onUpdate(update));
    try {
      await this.load(beforeChanges);
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.held = [];
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    unsubscribe?.();
  }

  private async load(beforeChanges: (revision: number) => void = () => undefined): Promise<void> {
    let first = true;
    do {
      this.state = 'loading';
      this.held = [];
      this.reloadWanted = false;
      const { revision, snapshot } = await this.handler.snapshot();
      if (this.isClosed()) return;
      this.snapshotRevision = revision;
      const push: SnapshotPush = { type: 'snapshot', revision, snapshot };
      this.sink.push(push);
      if (first) beforeChanges(revision);
      first = false;
    } while (this.reloadWanted && !this.isClosed());
    if (this.isClosed()) return;
    const held = this.held;
    this.held = [];
    this.state = 'live';
    for (const change of held) this.forward(change);
  }

  /** A separate method so TypeScript does not narrow `state` across the awaits in load(). */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private onUpdate(update: ApiUpdate): void {
    if (this.state === 'closed') return;
    if (update.type === 'reset') {
      this.reload();
      return;
    }
    const push: ChangePush = { type: 'change', revision: update.revision, change: update.change };
    if (this.state === 'live') {
      this.forward(push);
    } else if (this.held.length < this.maxHeld) {
      this.held.push(push);
    } else {
      this.held = [];
      this.reloadWanted = true;
    }
  }

  private forward(push: ChangePush): void {
    // Already contained in the snapshot the client holds.
    if (push.revision <= this.snapshotRevision) return;
    this.sink.push(push);
  }

  private reload(): void {
    if (this.state === 'loading') {
      this.reloadWanted = true;
      return;
    }
    this.load().catch((error: unknown) => {
      if (this.state === 'closed') return;
      this.close();
      this.sink.fail(`cannot take a fresh snapshot: ${error instanceof Error ? error.message : String(error)}`);
    });
  }
}
