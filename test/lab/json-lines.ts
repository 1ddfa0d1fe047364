// Reads a lab child's stdout as JSON lines and lets a test wait for the line it expects.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export type JsonRecord = Record<string, unknown>;

export class JsonLines {
  readonly records: JsonRecord[] = [];
  /** Date.now() when each record's line was read (same index as records). */
  readonly readAt: number[] = [];
  stderr = '';
  private waiters: Array<{ match: (r: JsonRecord) => boolean; resolve: (r: JsonRecord) => void }> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let record: JsonRecord;
      try {
        record = JSON.parse(line) as JsonRecord;
      } catch {
        record = { text: line };
      }
      this.records.push(record);
      this.readAt.push(Date.now());
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(record)) return true;
        waiter.resolve(record);
        return false;
      });
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  }

  /** The first record (already seen or still to come) that matches; rejects after timeoutMs. */
  waitFor(match: (record: JsonRecord) => boolean, timeoutMs: number, what = 'a matching line'): Promise<JsonRecord> {
    const seen = this.records.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.records)} stderr: ${this.stderr}`));
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (record) => {
          clearTimeout(timer);
          resolve(record);
        },
      });
    });
  }

  /** When `record` (one of records) was read. */
  readTimeOf(record: JsonRecord): number {
    const index = this.records.indexOf(record);
    if (index < 0) throw new Error('readTimeOf: not a record of this reader');
    return this.readAt[index] ?? Number.NaN;
  }

  waitForEvent(event: string, timeoutMs: number): Promise<JsonRecord> {
    return this.waitFor((r) => r.event === event, timeoutMs, `event "${event}"`);
  }
}
