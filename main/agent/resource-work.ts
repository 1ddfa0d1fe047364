// One piece of work per resource at a time, and the reconcile pass that follows every end of work.
// The pass is paced: a reconcile over 1,000 resources costs tens of milliseconds on a loaded host,
// and back to back they took most of the event loop during a drain, so the next one waits at least
// as long as the last one ran (at most half the loop's time goes to reconciling).
import { performance } from 'node:perf_hooks';
import type { ResourceName } from '../cluster/model';
import { isStoreError } from '../store/store';

/** The longest a pass waits because the previous one ran long. */
const MAX_SPACING_MS = 100;
/** How long a resource whose work threw is left alone before the next try. */
export const FAILED_WORK_BACKOFF_MS = 1000;

const REFUSAL_LOG_INTERVAL_MS = 60_000;

export class ResourceWork {
  /** Resources with work in flight: the reconcile leaves them alone. */
  private readonly inFlight = new Set<ResourceName>();
  /** Resources whose last work threw, and until when no new work starts for them. */
  private readonly backoffUntil = new Map<ResourceName, number>();
  /** The store's refusal last logged, and when (performance.now()). */
  private refusal: { message: string; at: number } | null = null;
  private queued = false;
  /** How long each pass since the last passStats() kept the event loop (ms; at most the last 10,000). */
  private passDurations: number[] = [];
  /** performance.now() before which the next pass does not start. */
  private nextPassAt = 0;

  /** `pass`: the reconcile; `log` gets the failures of work and of passes. */
  constructor(
    private readonly pass: () => Promise<void>,
    private readonly log: (line: string) => void,
  ) {}

  /** The passes since the last call: how many, and how long they kept the event loop (median, longest). */
  passStats(): { passes: number; medianMs: number; longestMs: number } {
    const durations = this.passDurations.sort((a, b) => a - b);
    this.passDurations = [];
    return { passes: durations.length, medianMs: durations[Math.floor(durations.length / 2)] ?? 0, longestMs: durations.at(-1) ?? 0 };
  }

  busy(resource: ResourceName): boolean {
    return this.inFlight.has(resource);
  }

  /** A pass soon, once for any number of calls. */
  schedule(): void {
    if (this.queued) return;
    this.queued = true;
    const run = (): void => {
      this.queued = false;
      const started = performance.now();
      this.pass().catch((error: unknown) => this.report('reconcile', error, ''));
      const now = performance.now();
      if (this.passDurations.length < 10_000) this.passDurations.push(now - started);
      this.nextPassAt = now + Math.min(now - started, MAX_SPACING_MS);
    };
    const wait = this.nextPassAt - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else setImmediate(run);
  }

  private report(what: string, error: unknown, retry: string): void {
    if (isStoreError(error, 'refused')) {
      // Every resource's work meets the same refusal: said once a minute, not once per resource and second.
      const now = performance.now();
      if (this.refusal?.message !== error.message || now - this.refusal.at >= REFUSAL_LOG_INTERVAL_MS) {
        this.log(`the cluster store refuses this agent: ${error.message} (work is tried again; said once a minute while it lasts)`);
        this.refusal = { message: error.message, at: now };
      }
      return;
    }
    this.log(`${what}: ${error instanceof Error ? error.message : String(error)}${retry}`);
  }

  /**
   * Runs `work` for a batch (`key`: its intent id) over many resources, unless the batch's work is in
   * flight or backing off; every resource counts as busy meanwhile, so no work of its own starts.
   * `resources` already busy with work of their own are the caller's to leave out.
   */
  async guardMany(key: string, resources: readonly ResourceName[], work: () => Promise<void>): Promise<void> {
    if (this.inFlight.has(key)) return;
    await this.run(key, resources.filter((resource) => !this.inFlight.has(resource)), work);
  }

  /** Runs `work` for `resource` unless work for it is in flight or backing off; a pass follows. */
  async guard(resource: ResourceName, work: () => Promise<void>): Promise<void> {
    await this.run(resource, [], work);
  }

  private async run(key: string, alsoBusy: readonly ResourceName[], work: () => Promise<void>): Promise<void> {
    // Work that failed is not tried again at once: every end of work schedules a pass, and a step
    // that throws before its first await (a stale record it cannot act on) looped at thousands a second.
    const until = this.backoffUntil.get(key);
    if (until !== undefined && performance.now() < until) return;
    this.backoffUntil.delete(key);
    this.inFlight.add(key);
    for (const resource of alsoBusy) this.inFlight.add(resource);
    try {
      await work();
    } catch (error) {
      this.report(key, error, ` (tried again in ${FAILED_WORK_BACKOFF_MS} ms)`);
      this.backoffUntil.set(key, performance.now() + FAILED_WORK_BACKOFF_MS);
      setTimeout(() => this.schedule(), FAILED_WORK_BACKOFF_MS).unref();
    } finally {
      this.inFlight.delete(key);
      for (const resource of alsoBusy) this.inFlight.delete(resource);
      this.schedule();
    }
  }
}
