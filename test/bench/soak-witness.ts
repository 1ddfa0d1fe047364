// The soak's client witness: the multi-witness tool (test/lab/tools) on a lab client, asking every
// address every 20 ms; its gap and overlap lines collected as they come, its summary at the stop.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from '../lab/lab';
import { JsonLines, type JsonRecord } from '../lab/json-lines';
import type { GapEvent, OverlapEvent } from './soak-report';

const TOOL = join(__dirname, '..', 'lab', 'tools', 'multi-witness.js');
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

export interface WitnessEnd {
  gaps: GapEvent[];
  openGaps: GapEvent[];
  overlaps: OverlapEvent[];
  probesSent: number;
  kernelDropped: number | null;
  /** Addresses that never answered during the whole run. */
  neverAnswered: string[];
}

export class SoakWitness {
  private constructor(private readonly lab: Lab, private readonly lines: JsonLines, private readonly dir: string) {}

  static async start(lab: Lab, client: string, addresses: readonly string[], intervalMs: number, gapMs: number): Promise<SoakWitness> {
    const host = lab.host(client);
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-soak-witness-'));
    const targets = join(dir, 'targets');
    writeFileSync(targets, `${addresses.join('\n')}\n`);
    const argv = [process.execPath, TOOL, '--dev', host.ifname, '--from-ip', host.ip, '--targets-file', targets, '--interval-ms', String(intervalMs), '--gap-ms', String(gapMs)];
    const lines = new JsonLines(lab.spawn(host, argv, { stdio: ['pipe', 'pipe', 'pipe'] }));
    const witness = new SoakWitness(lab, lines, dir);
    try {
      await Promise.race([
        lines.waitFor((r) => r.type === 'ready', READY_TIMEOUT_MS, `multi-witness on ${client} ready`),
        lines.exited.then(() => Promise.reject(new Error(`multi-witness on ${client} exited before it was ready: ${lines.stderr}`))),
      ]);
    } catch (error) {
      await witness.kill();
      throw error;
    }
    return witness;
  }

  /** Gaps and overlaps reported so far. */
  get overlapsSoFar(): number {
    return this.lines.records.filter((r) => r.type === 'overlap').length;
  }

  get alive(): boolean {
    return this.lines.child.exitCode === null && this.lines.child.signalCode === null;
  }

  get stderr(): string {
    return this.lines.stderr;
  }

  /** Stops probing, waits for the summary (bounded), and returns everything the witness reported. */
  async stop(): Promise<WitnessEnd> {
    this.lines.child.kill('SIGTERM');
    const summary = await Promise.race([
      this.lines.waitFor((r) => r.type === 'summary', STOP_TIMEOUT_MS, 'witness summary').catch(() => null),
      this.lines.exited.then(() => this.lines.records.find((r) => r.type === 'summary') ?? null),
    ]);
    await this.kill();
    if (summary === null) throw new Error(`the witness ended without a summary: ${this.lines.stderr}`);
    const of = <T>(type: string): T[] => this.lines.records.filter((r) => r.type === type).map((r) => r as unknown as T);
    const answers = (summary.answers ?? {}) as Record<string, number>;
    return {
      gaps: of<GapEvent>('gap'),
      openGaps: (summary.openGaps ?? []) as GapEvent[],
      overlaps: of<OverlapEvent>('overlap'),
      probesSent: Number(summary.probesSent),
      kernelDropped: typeof summary.kernelDropped === 'number' ? summary.kernelDropped : null,
      neverAnswered: Object.entries(answers).filter(([, n]) => n === 0).map(([ip]) => ip),
    };
  }

  /** Kills the tool (by its PID) and removes its files. Safe to call twice. */
  async kill(): Promise<void> {
    await this.lab.stop(this.lines.child, 1000);
    rmSync(this.dir, { recursive: true, force: true });
  }

  records(): readonly JsonRecord[] {
    return this.lines.records;
  }
}
