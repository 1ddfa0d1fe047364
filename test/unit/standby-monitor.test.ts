// The standby's monitor (main/agent/standby-monitor.ts) at the shortest probe interval, 2 ms (`--failover-
// profile fast --owner-silence-ms 8`), on a fake clock: its interval is node:test's mock timer, the owner's
// kernel a function that answers each probe one millisecond later. A verdict needs four questions left
// unanswered; a standby that stalls is slower, never wrong.
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Mac } from '../../main/arp/frame';
import type { Host } from '../../main/host/host';
import type { LocalAddresses } from '../../main/agent/local-addresses';
import { StandbyMonitor, type Silence, type Watched } from '../../main/agent/standby-monitor';
import { detectionFor } from '../../main/cluster/failover-profile';

const IFNAME = 'eth0';
const OWNER_MAC = '02:00:00:00:00:01' as Mac;
const TARGET: Watched = { resource: 'web', ip: '10.0.0.50', ifname: IFNAME, owner: 'n1', ownerLeaseId: 'lease-1' };

/** A standby watching one owner whose kernel answers when `answers(sentAt)` says so. */
class Bench {
  now = 0;
  readonly probesSentAt: number[] = [];
  readonly answersReadAt: number[] = [];
  readonly verdicts: Array<{ at: number; silence: Silence }> = [];
  /** When each answer on its way reaches this standby. */
  private readonly inFlight: number[] = [];
  private onAnswer: ((mac: Mac) => void) | null = null;
  /** The mock timers' own time: it stands still while the standby stalls. */
  private timerNow = 0;
  private timerOverdue = false;
  readonly monitor: StandbyMonitor;

  constructor(private readonly answers: (sentAt: number) => boolean) {
    const local = {
      watchAddress: (_ifname: string, _ip: string, onAnswer: (mac: Mac) => void) => {
        this.onAnswer = onAnswer;
        return {
          ask: () => {
            this.probesSentAt.push(this.now);
            if (this.answers(this.now)) this.inFlight.push(this.now + 1);
          },
          stop: () => {
            this.onAnswer = null;
          },
        };
      },
      kernelDropped: () => 0,
    } as unknown as LocalAddresses;
    const host = {
      interfaceState: () => ({ index: 2, mac: '02:00:00:00:00:02' as Mac, adminUp: true, carrier: true }),
      // No capture of its own: the answers come through the shared socket (watchAddress).
      openProbeAnswers: () => null,
    } as unknown as Host;
    this.monitor = new StandbyMonitor(local, (_target, silence) => this.verdicts.push({ at: this.now, silence }), { host, clock: { now: () => this.now }, detection: detectionFor('fast', 8) });
    this.monitor.update([TARGET]);
  }

  /**
   * One millisecond, one turn of Node's loop in its order: timers (the monitor's interval, mocked), then
   * the reads of the answers that arrived (poll), then setImmediate callbacks (check; real ones: the
   * monitor's pass runs here, and this awaits it).
   */
  async step(): Promise<void> {
    this.now += 1;
    // After a stall the interval is overdue and fires in the first turn; the mock's time did not move.
    const interval = this.monitor.detection.probeIntervalMs;
    const timerAdvance = this.timerOverdue ? interval - (this.timerNow % interval) : 1;
    this.timerOverdue = false;
    this.timerNow += timerAdvance;
    mock.timers.tick(timerAdvance);
    this.readDueAnswers();
    await new Promise((resolve) => setImmediate(resolve));
  }

  async run(ms: number): Promise<void> {
    for (let i = 0; i < ms; i++) await this.step();
  }

  /**
   * The standby's process stalls for `ms`: no timer, no read. The answers that arrived meanwhile wait in
   * the socket and are read in the loop turn that ends the stall, before its pass.
   */
  stall(ms: number): void {
    this.now += ms;
    this.timerOverdue = true;
  }

  private readDueAnswers(): void {
    for (let i = this.inFlight.length - 1; i >= 0; i--) {
      if (this.inFlight[i]! > this.now) continue;
      this.inFlight.splice(i, 1);
      this.answersReadAt.push(this.now);
      this.onAnswer?.(OWNER_MAC);
    }
  }
}

describe('standby monitor at a 2 ms probe interval (fast, owner silence 8 ms)', () => {
  let bench: Bench | null = null;
  beforeEach(() => mock.timers.enable({ apis: ['setInterval'] }));
  afterEach(() => {
    bench?.monitor.stop();
    bench = null;
    mock.timers.reset();
  });

  test('asks every 2 ms: one probe per pass for one confirmed address', async () => {
    bench = new Bench(() => true);
    await bench.run(200);
    assert.equal(bench.monitor.detection.probeIntervalMs, 2);
    assert.equal(bench.probesSentAt.length, 100);
    assert.deepEqual(bench.verdicts, []);
  });

  test('an owner that stops answering: the verdict comes after four unanswered questions, not fewer', async () => {
    const diesAt = 100;
    bench = new Bench((sentAt) => sentAt < diesAt);
    await bench.run(200);
    assert.equal(bench.verdicts.length, 1);
    const [verdict] = bench.verdicts;
    const lastAnswer = bench.answersReadAt.at(-1)!;
    const unanswered = bench.probesSentAt.filter((at) => at >= diesAt && at < verdict!.at);
    assert.equal(unanswered.length, 4, `probes unanswered before the verdict: ${unanswered.join(', ')}`);
    assert.ok(verdict!.silence.silentMs >= 8, `silent ${verdict!.silence.silentMs} ms`);
    assert.ok(verdict!.at - lastAnswer <= 8 + 2 * 2, `verdict ${verdict!.at - lastAnswer} ms after the last answer`);
    assert.match(verdict!.silence.evidence, /^4 probes for addresses it had answered for went unanswered/);
    assert.deepEqual(verdict!.silence.resources, ['web']);
  });

  test('three answers lost in a row on the wire are no verdict', async () => {
    // One probe in four gets an answer through: three lost in a row, then an answer, again and again.
    let probe = 0;
    bench = new Bench(() => probe++ % 4 === 0);
    await bench.run(1000);
    assert.deepEqual(bench.verdicts, []);
  });

  test('a stalled standby is never wrong: the answers queued during its stall are read before it judges', async () => {
    bench = new Bench(() => true);
    await bench.run(50);
    for (const stallMs of [9, 20, 50, 500, 3]) {
      bench.stall(stallMs);
      await bench.run(20);
    }
    assert.deepEqual(bench.verdicts, []);
  });

  test('never wrong either when it stalls right after the one probe in four that gets through', async () => {
    // Three questions lost, the fourth sent and its answer on the way when the stall begins: judged
    // before that answer is read, four unanswered questions over a long silence would be a verdict.
    let probe = 0;
    bench = new Bench(() => probe++ % 4 === 0);
    await bench.run(50);
    for (let phase = 0; phase < 8; phase++) {
      await bench.run(phase + 1);
      bench.stall(20);
    }
    await bench.run(20);
    assert.deepEqual(bench.verdicts, []);
  });

  test('a stalled standby is slower: silence during its stall counts only once four questions went out after it', async () => {
    const diesAt = 100;
    bench = new Bench((sentAt) => sentAt < diesAt);
    await bench.run(diesAt + 1); // the owner's last answer is in; then it dies and this standby stalls
    bench.stall(50);
    const stallEnd = bench.now;
    await bench.run(50);
    assert.equal(bench.verdicts.length, 1);
    const [verdict] = bench.verdicts;
    const unanswered = bench.probesSentAt.filter((at) => at >= diesAt && at < verdict!.at);
    assert.ok(unanswered.length >= 4, `probes unanswered before the verdict: ${unanswered.join(', ')}`);
    assert.ok(verdict!.at > stallEnd, 'no verdict in the loop turn that ends the stall');
    assert.ok(verdict!.silence.silentMs > 50, `the silence counted the stall: ${verdict!.silence.silentMs} ms`);
  });
});
