// ARP storm detection over an exact sliding window, with hysteresis: the storm starts when
// more than `thresholdPerSec` frames fall in the last window and ends only when fewer than
// `quietPerSec` do, so a rate hovering at the threshold gives one start and one end, not a
// stream of them.
//
// The arrival times of the last threshold+1 frames live in a fixed ring (no per-frame
// allocation). That is exactly enough: "more than threshold frames in the window" means
// the (threshold+1)-th most recent frame is inside it, and "fewer than quiet" means the
// quiet-th most recent one is outside it.

import type { StormEndEvent, StormStartEvent } from './events';

export type StormTransition = StormStartEvent | StormEndEvent;

const NO_TRANSITIONS: readonly StormTransition[] = [];

export class StormDetector {
  private readonly arrivals: Float64Array;
  private next = 0;
  private filled = 0;
  private stormStartedAt = -1;
  private stormFrames = 0;

  constructor(
    thresholdPerSec: number,
    private readonly quietPerSec: number,
    private readonly windowMs = 1000,
  ) {
    if (!Number.isInteger(thresholdPerSec) || thresholdPerSec < 1) throw new RangeError(`storm threshold must be a positive integer, got ${thresholdPerSec}`);
    if (!Number.isInteger(quietPerSec) || quietPerSec < 1 || quietPerSec > thresholdPerSec) {
      throw new RangeError(`storm quiet level must be an integer in 1..threshold (${thresholdPerSec}), got ${quietPerSec}`);
    }
    this.arrivals = new Float64Array(thresholdPerSec + 1);
  }

  get storming(): boolean {
    return this.stormStartedAt >= 0;
  }

  /** Records one frame at `now` (ms, never decreasing) and returns the transition it caused, if any. */
  frame(now: number): StormTransition | null {
    this.arrivals[this.next] = now;
    this.next = this.next + 1 === this.arrivals.length ? 0 : this.next + 1;
    if (this.filled < this.arrivals.length) this.filled++;
    if (this.storming) {
      this.stormFrames++;
      return this.endIfQuiet(now);
    }
    if (this.filled === this.arrivals.length && this.nthMostRecent(this.arrivals.length) > now - this.windowMs) {
      this.stormStartedAt = now;
      this.stormFrames = 1;
      return { type: 'storm-start', at: now, rate: this.rateAt(now) };
    }
    return null;
  }

  /**
   * Records `count` frames all at `now`: the same state and transitions as frame(now) `count` times (a storm
   * may end at the first of them and start again once they fill the window). Once the ring holds nothing
   * but `now` while storming, no further frame at `now` can change anything but the count: the rest is
   * added at once, so a bulk costs at most threshold+1 steps per distinct `now`.
   */
  frames(now: number, count: number): readonly StormTransition[] {
    let transitions: StormTransition[] | null = null;
    for (let left = count; left > 0; left--) {
      if (this.storming && this.filled === this.arrivals.length && this.nthMostRecent(this.filled) === now) {
        this.stormFrames += left;
        break;
      }
      const transition = this.frame(now);
      if (transition) (transitions ??= []).push(transition);
    }
    return transitions ?? NO_TRANSITIONS;
  }

  /** Lets time pass without a frame: a storm that stopped dead still ends. */
  tick(now: number): StormTransition | null {
    return this.storming ? this.endIfQuiet(now) : null;
  }

  /** Frames in the window ending at `now`, capped at threshold+1 (the ring holds no more). */
  rateAt(now: number): number {
    const windowStart = now - this.windowMs;
    // Arrivals are in time order, so binary-search the count of recent ones inside the window.
    let inside = 0;
    let outside = this.filled + 1;
    while (outside - inside > 1) {
      const middle = (inside + outside) >>> 1;
      if (this.nthMostRecent(middle) > windowStart) inside = middle;
      else outside = middle;
    }
    return inside;
  }

  private endIfQuiet(now: number): StormTransition | null {
    const quiet = this.filled < this.quietPerSec || this.nthMostRecent(this.quietPerSec) <= now - this.windowMs;
    if (!quiet) return null;
    const event: StormTransition = {
      type: 'storm-end', at: now, rate: this.rateAt(now), durationMs: now - this.stormStartedAt, frames: this.stormFrames,
    };
    this.stormStartedAt = -1;
    this.stormFrames = 0;
    return event;
  }

  /** Arrival time of the n-th most recent frame, 1 <= n <= filled. */
  private nthMostRecent(n: number): number {
    let index = this.next - n;
    if (index < 0) index += this.arrivals.length;
    return this.arrivals[index] ?? Number.NEGATIVE_INFINITY;
  }
}
