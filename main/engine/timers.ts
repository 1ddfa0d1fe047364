// The one real clock of the engine: monotonic milliseconds plus a single re-armable timer.
// State machines take `now` as an argument; this module is where real time enters.
import { performance } from 'node:perf_hooks';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

/** One pending deadline at a time, as the state machines expect (`set-timer` replaces the previous one). */
export class SingleTimer {
  private handle: NodeJS.Timeout | null = null;

  constructor(private readonly clock: Clock, private readonly onFire: () => void) {}

  setAt(at: number): void {
    this.cancel();
    const delay = Math.max(0, at - this.clock.now());
    this.handle = setTimeout(() => {
      this.handle = null;
      this.onFire();
    }, delay);
  }

  cancel(): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.handle = null;
  }

  get pending(): boolean {
    return this.handle !== null;
  }
}
