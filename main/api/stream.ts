// One connection's subscription: a snapshot, then every later change exactly once, in order.
//
// The handler is subscribed to BEFORE the snapshot is taken; changes that arrive meanwhile are
// held back, and once the snapshot (at revision R) is out, the held changes above R follow it.
// Subscribing after the snapshot instead would lose whatever changed in between.
// A 'reset' from the handler, or more held-back changes than maxHeld (a very slow snapshot under a
// storm of changes), start over with a fresh snapshot: the client replaces its state wholesale.
//
// With a view (the paged stream, protocol.ts), the snapshot at R goes out as a head (the view's first
// page and the counts), then the changes are live at once and the rows of R follow in chunks, one per
// turn of the event loop (setImmediate), so changes and other connections interleave with them and no
// chunk blocks the loop for long. A reload meanwhile abandons the chunks of the old snapshot.
// The paged stream's changes go out several to a message ('changes'): those of one batch window
// (CHANGE_BATCH_MS), in order; any other push first sends the batch waiting, so the order on the
// wire is the order of the pushes, as without batching.
import { encodeRows } from '../../preload/contract/compact-rows';
import { MAX_CHANGES_PER_PUSH, type ChangePush, type SnapshotHeadPush, type SnapshotPush, type WirePush } from '../../preload/contract/protocol';
import { firstPage, resourceComparator, type ResourceTableView } from '../../preload/contract/resource-order';
import { RESOURCE_STATES, type ResourceView, type Snapshot } from '../../preload/contract/domain';
import type { ApiHandler, ApiUpdate } from './handler';

/** Resources per 'snapshot-rows' push: ~140 KB of JSON, a few ms to encode here and to parse in a browser. */
export const DEFAULT_ROWS_PER_CHUNK = 2_000;

export interface StreamSink {
  push(message: WirePush): void;
  /** The stream cannot continue (a later snapshot failed); the connection should close. */
  fail(reason: string): void;
}

/** Held-back changes beyond which a fresh snapshot is cheaper than replaying them. */
export const DEFAULT_MAX_HELD_CHANGES = 50_000;

/**
 * How long the paged stream gathers changes into one message: about a frame, so a thousand changes
 * a second reach the console as ~60 messages (each message is a task, a parse and an event on the
 * console's main thread, which also has to draw 60 frames a second); a lone change waits that long.
 */
export const CHANGE_BATCH_MS = 16;

export class StreamSession {
  private state: 'loading' | 'live' | 'closed' = 'loading';
  private held: ChangePush[] = [];
  private reloadWanted = false;
  private snapshotRevision = -1;
  private unsubscribe: (() => void) | null = null;
  /** Counts snapshots taken: the rows of an older one stop being sent. */
  private generation = 0;
  /** The paged stream's changes waiting for their message (see the header), oldest first. */
  private batch: ChangePush[] = [];
  private batchTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly handler: ApiHandler,
    private readonly sink: StreamSink,
    private readonly maxHeld = DEFAULT_MAX_HELD_CHANGES,
    /** The paged stream's view, null for whole snapshots. */
    private readonly view: ResourceTableView | null = null,
    private readonly rowsPerChunk = DEFAULT_ROWS_PER_CHUNK,
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
    this.batch = [];
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
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
      this.generation += 1;
      if (this.view === null) {
        const push: SnapshotPush = { type: 'snapshot', revision, snapshot };
        this.send(push);
      } else {
        this.send(headOf(revision, snapshot, this.view));
      }
      if (first) beforeChanges(revision);
      first = false;
      if (this.view !== null && !this.reloadWanted) this.sendRows(revision, snapshot.resources, this.view);
    } while (this.reloadWanted && !this.isClosed());
    if (this.isClosed()) return;
    const held = this.held;
    this.held = [];
    this.state = 'live';
    for (const change of held) this.forward(change);
  }

  /** The rows of the snapshot at `revision`, in the view's order, a chunk per turn of the loop, until done or a newer snapshot. */
  private sendRows(revision: number, resources: readonly ResourceView[], view: ResourceTableView): void {
    const generation = this.generation;
    const sorted = [...resources].sort(resourceComparator(view.sort));
    let at = 0;
    const next = (): void => {
      if (this.isClosed() || generation !== this.generation) return;
      const chunk = sorted.slice(at, at + this.rowsPerChunk);
      at += chunk.length;
      const done = at >= sorted.length;
      this.send({ type: 'snapshot-rows', revision, rows: encodeRows(chunk), done });
      if (!done) setImmediate(next);
    };
    setImmediate(next);
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
    if (this.view === null) {
      this.sink.push(push);
      return;
    }
    this.batch.push(push);
    if (this.batch.length >= MAX_CHANGES_PER_PUSH) this.sendBatch();
    else this.batchTimer ??= setTimeout(() => this.sendBatch(), CHANGE_BATCH_MS);
  }

  /** Any push but a change: the changes gathered so far go first, so the wire keeps the pushes' order. */
  private send(push: WirePush): void {
    this.sendBatch();
    this.sink.push(push);
  }

  private sendBatch(): void {
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (this.batch.length === 0 || this.state === 'closed') return;
    const changes = this.batch.map(({ revision, change }) => ({ revision, change }));
    this.batch = [];
    this.sink.push({ type: 'changes', changes });
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

/** The paged stream's head: everything but the resources, the counts, the view's first page. */
export function headOf(revision: number, snapshot: Snapshot, view: ResourceTableView): SnapshotHeadPush {
  const { page, matching } = firstPage(snapshot.resources, view);
  const states = Object.fromEntries(RESOURCE_STATES.map((state) => [state, 0])) as SnapshotHeadPush['states'];
  for (const resource of snapshot.resources) states[resource.status.state] += 1;
  return {
    type: 'snapshot-head',
    revision,
    view,
    resourceCount: snapshot.resources.length,
    matching,
    states,
    page,
    nodes: snapshot.nodes,
    conflicts: snapshot.conflicts,
    events: snapshot.events,
    rejected: snapshot.rejected,
  };
}
