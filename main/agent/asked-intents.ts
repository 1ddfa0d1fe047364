// Asking another node to do something only it can, through the store: a probe from the node that would
// take an address (preflight.ts), an announcement from the address's holder (announcer.ts). The asker
// writes an intent naming that node; the node does it and writes the outcome into the intent (once, by
// compare-and-swap, only while the asker still waits); the asker reads it and deletes the intent. An
// intent its asker never deleted (the asker died) is removed by the node it names after a minute.
import type { AnnounceIntent, CleanupIntent, ProbeIntent } from '../cluster/intents';
import type { NodeName } from '../cluster/model';
import type { ClusterStore, StoreChange } from '../store/store';
import type { ClusterView } from './cluster-view';

/** The intents answered this way, by kind. */
interface AskedIntent {
  probe: ProbeIntent;
  announce: AnnounceIntent;
  cleanup: CleanupIntent;
}
export type AskedKind = keyof AskedIntent;
export type OutcomeOf<K extends AskedKind> = NonNullable<AskedIntent[K]['outcome']>;

/** An intent nobody deleted is removed by the node it names after this long. */
const STALE_INTENT_MS = 60_000;

export interface AskedIntentsContext {
  node: NodeName;
  store: ClusterStore;
  view(): ClusterView;
  /** Subscribes to the view's changes (the agent's change stream); returns the unsubscribe. */
  onChange(listener: (change: StoreChange) => void): () => void;
  log(line: string): void;
}

export class AskedIntents<K extends AskedKind> {
  /** Intents of this kind this node is answering now. */
  private readonly serving = new Set<string>();

  /** `timeoutMs`: how long an asker waits; the named node leaves older intents unanswered. */
  constructor(
    private readonly context: AskedIntentsContext,
    private readonly kind: K,
    private readonly timeoutMs: number,
  ) {}

  /** Writes `intent` (its outcome null) and waits for the named node's outcome; the intent is deleted either way. */
  async ask(intent: AskedIntent[K], timeoutMs = this.timeoutMs): Promise<OutcomeOf<K> | { ok: false; timedOut: true }> {
    const answered = this.outcomeOf(intent.id, timeoutMs);
    try {
      await this.context.store.putIntent(intent, 0);
      return (await answered.outcome) ?? { ok: false, timedOut: true };
    } finally {
      answered.cancel();
      await this.context.store.deleteIntent(intent.id).catch(() => false);
    }
  }

  /** Answers the intents of this kind that name this node (called on every reconcile). */
  serve(answer: (intent: AskedIntent[K]) => Promise<OutcomeOf<K>>): void {
    const now = Date.now();
    for (const intent of this.context.view().intents.values()) {
      if (!this.isMine(intent) || this.serving.has(intent.id)) continue;
      if (now - intent.createdAt > STALE_INTENT_MS) {
        this.serving.add(intent.id);
        void this.context.store.deleteIntent(intent.id).catch(() => false).finally(() => this.serving.delete(intent.id));
        continue;
      }
      // An outcome is written once; one older than its asker's patience is left for the asker to delete.
      if (intent.outcome !== null || now - intent.createdAt > this.timeoutMs) continue;
      this.serving.add(intent.id);
      void this.write(intent, answer).finally(() => this.serving.delete(intent.id));
    }
  }

  private isMine(intent: { kind: string; node?: string }): intent is AskedIntent[K] {
    return intent.kind === this.kind && intent.node === this.context.node;
  }

  private async write(intent: AskedIntent[K], answer: (intent: AskedIntent[K]) => Promise<OutcomeOf<K>>): Promise<void> {
    const outcome = await answer(intent);
    // Only if the asker still waits: a compare-and-swap on the revision the view last saw it at, so a
    // deleted intent does not come back (and one rewritten meanwhile is not overwritten).
    const revision = this.context.view().intentRevisions.get(intent.id);
    if (revision === undefined) return;
    await this.context.store.putIntent(Object.assign({}, intent, { outcome }), revision).catch((error: unknown) => this.context.log(`${this.kind} ${intent.id}: outcome not written: ${String(error)}`));
  }

  /** The outcome written into intent `id`, or null after `timeoutMs` or cancel(). Listens before the intent is written. */
  private outcomeOf(id: string, timeoutMs: number): { outcome: Promise<OutcomeOf<K> | null>; cancel: () => void } {
    let cancel = (): void => undefined;
    const outcome = new Promise<OutcomeOf<K> | null>((resolve) => {
      const timer = setTimeout(() => finish(null), timeoutMs);
      const unsubscribe = this.context.onChange((change) => {
        if (change.collection !== 'intents' || change.kind !== 'put' || change.name !== id || change.value.kind !== this.kind) return;
        const written = (change.value as AskedIntent[K]).outcome;
        if (written !== null) finish(written);
      });
      const finish = (value: OutcomeOf<K> | null): void => {
        clearTimeout(timer);
        unsubscribe();
        resolve(value);
      };
      cancel = () => finish(null);
    });
    return { outcome, cancel };
  }
}
