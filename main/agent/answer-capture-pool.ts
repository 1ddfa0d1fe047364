// The batch probe's answer captures (batch-probe.ts), kept open between batches. Opening a packet capture
// blocks the event loop ~15 ms (the kernel waits out a grace period while libpcap binds the socket), and
// a 10,000-address import ran ~50 batch probes per agent: ~0.75 s of an agent's loop stalled, the standby
// monitor's 2-3 ms probes with it. A capture is closed once nobody has borrowed it for IDLE_MS (between
// batches it would only read the LAN's answers to probes for nobody), when its interface fails, or with
// the agent.
import type { FrameSource } from '../net/pcap';

/** How long a capture nobody borrows stays open. */
export const ANSWER_CAPTURE_IDLE_MS = 5_000;

export interface BorrowedCapture {
  capture: FrameSource;
  /** Done with it (idempotent); the last borrower's release starts the idle timer. */
  release(): void;
}

interface Entry {
  capture: FrameSource;
  borrowers: number;
  idle: NodeJS.Timeout | null;
}

export class AnswerCapturePool {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** host.openProbeAnswers: null where the host has no answer capture (Windows, the addon not built); may throw. */
    private readonly open: (ifname: string, bufferBytes: number) => FrameSource | null,
    private readonly idleMs = ANSWER_CAPTURE_IDLE_MS,
  ) {}

  /** The open capture of `ifname`, or a new one of `bufferBytes`; null where the host has none. Throws what opening throws. */
  borrow(ifname: string, bufferBytes: number): BorrowedCapture | null {
    let entry = this.entries.get(ifname);
    if (entry === undefined) {
      const capture = this.open(ifname, bufferBytes);
      if (capture === null) return null;
      const created: Entry = { capture, borrowers: 0, idle: null };
      // Lost (its interface went away) or closed by forget(): the next borrower opens a new one.
      capture.once('close', () => {
        if (created.idle !== null) clearTimeout(created.idle);
        if (this.entries.get(ifname) === created) this.entries.delete(ifname);
      });
      this.entries.set(ifname, (entry = created));
    }
    const borrowed = entry;
    if (borrowed.idle !== null) clearTimeout(borrowed.idle);
    borrowed.idle = null;
    borrowed.borrowers++;
    let released = false;
    return {
      capture: borrowed.capture,
      release: () => {
        if (released) return;
        released = true;
        if (--borrowed.borrowers > 0 || this.entries.get(ifname) !== borrowed) return;
        borrowed.idle = setTimeout(() => {
          if (borrowed.borrowers === 0) borrowed.capture.close();
        }, this.idleMs);
        borrowed.idle.unref();
      },
    };
  }

  /** True while `ifname` has a capture open here (borrowed or idle). */
  has(ifname: string): boolean {
    return this.entries.has(ifname);
  }

  /** The interface failed: its capture closes now, borrowed or not (a borrower's probe sees the fault). */
  forget(ifname: string): void {
    this.entries.get(ifname)?.capture.close();
  }

  close(): void {
    for (const entry of [...this.entries.values()]) entry.capture.close();
  }
}
