// Progress of a long CLI operation (`ipfo resource import`): on a terminal one line redrawn with \r
// (a bar, counts, rate, ETA), otherwise a plain line now and then, so a log file gets a few lines and
// not thousands. The text is pure (progressText); the reporter only decides when to write it.

export interface ProgressState {
  /** What is counted: "created", "online". */
  label: string;
  done: number;
  total: number;
  elapsedMs: number;
}

const BAR_WIDTH = 24;

function seconds(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** Items per second so far; 0 before any time has passed. */
export function ratePerSec(done: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : (done * 1000) / elapsedMs;
}

/** "created  [##########--------------]  4,200/10,000  2,100/s  ETA 2.8 s" (bar only on a terminal). */
export function progressText(state: ProgressState, bar: boolean): string {
  const { label, done, total, elapsedMs } = state;
  const fraction = total <= 0 ? 1 : Math.min(1, done / total);
  const rate = ratePerSec(done, elapsedMs);
  const count = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}`;
  const rateText = `${Math.round(rate).toLocaleString('en-US')}/s`;
  const eta = done >= total ? `in ${seconds(elapsedMs)}` : rate > 0 ? `ETA ${seconds(((total - done) / rate) * 1000)}` : 'ETA ?';
  const filled = Math.round(fraction * BAR_WIDTH);
  const drawn = bar ? `  [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]` : '';
  return `${label.padEnd(8)}${drawn}  ${count}  ${rateText}  ${eta}`;
}

export interface ProgressSink {
  /** A terminal: redraw one line with \r. */
  tty: boolean;
  /** Raw text to the operator's terminal or log (stderr). */
  write(text: string): void;
}

/** Redraws at most every 100 ms on a terminal, a plain line at most every 2 s elsewhere; end() writes the last state. */
export class ProgressReporter {
  private lastAt = -Infinity;
  private drawn = false;
  private readonly startedAt: number;

  constructor(
    private readonly sink: ProgressSink,
    private readonly label: string,
    private readonly total: number,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
  }

  update(done: number): void {
    const at = this.now();
    if (at - this.lastAt < (this.sink.tty ? 100 : 2_000)) return;
    this.lastAt = at;
    this.draw(done);
  }

  end(done: number): void {
    this.draw(done);
    if (this.sink.tty && this.drawn) this.sink.write('\n');
    this.drawn = false;
  }

  private draw(done: number): void {
    const text = progressText({ label: this.label, done, total: this.total, elapsedMs: this.now() - this.startedAt }, this.sink.tty);
    if (this.sink.tty) {
      // \x1b[K clears what a longer previous line left.
      this.sink.write(`\r${text}\x1b[K`);
      this.drawn = true;
    } else {
      this.sink.write(`${text}\n`);
    }
  }
}
