// The lease deadline, kept on disk (tmpfs) so that an agent restarted at once (a crash, an upgrade) can
// keep serving the addresses its predecessor registered: it may renew their kernel lifetime before it
// has even reconnected to the store, as long as the renewed lifetime still ends before the old lease
// could expire — the same rule the running agent follows. Times are CLOCK_MONOTONIC nanoseconds
// (process.hrtime), which every process on the host shares, so no wall-clock jump can fool it.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export class LeaseDeadlineFile {
  private readonly file: string;

  constructor(stateDir: string, node: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.file = join(stateDir, `${node}.lease-deadline`);
  }

  /** Records that the lease lives at least until `validUntil` (performance.now() ms of this process). */
  write(validUntil: number): void {
    const remainingNs = BigInt(Math.floor((validUntil - performance.now()) * 1e6));
    const temp = `${this.file}.tmp`;
    writeFileSync(temp, `${process.hrtime.bigint() + remainingNs}\n`);
    renameSync(temp, this.file);
  }

  /** Milliseconds the recorded lease certainly still lives (<= 0 when gone or unknown). */
  remainingMs(): number {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8').trim();
    } catch {
      return 0;
    }
    if (!/^\d+$/.test(text)) return 0;
    return Number(BigInt(text) - process.hrtime.bigint()) / 1e6;
  }
}
