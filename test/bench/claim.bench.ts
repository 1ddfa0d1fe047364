// npm run bench:claim — in the lab, with a client streaming one datagram every ms (BENCH_STREAM_INTERVAL_MS) to the address:
//  1. cold claim: from the start of `ipfo claim --no-probe` (a new process) to the first datagram it answers;
//  2. handoff: from the release on one node to the first client datagram answered by the other node; the
//     released node tells the other one over the LAN (one UDP datagram), as one agent tells another.
// Claims alternate between two nodes so that each one is an owner change the stream reports.
// Prints median and p99 over BENCH_REPS repetitions (default 20). Not a test: it asserts nothing.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { withLab, toolArgv, type Lab, type LabHost } from '../lab/lab';
import { startUdpEcho } from '../lab/traffic';
import { JsonLines } from '../lab/json-lines';
import { ipfoArgv } from '../lab/ipfo';
import { formatSummary, summarize } from './stats';

const REPS = Number(process.env.BENCH_REPS ?? 20);
const STREAM_INTERVAL_MS = Number(process.env.BENCH_STREAM_INTERVAL_MS ?? 1);
const HOLDER = join(__dirname, 'handoff-holder.js');
const wallNow = (): number => performance.timeOrigin + performance.now();

class Stream {
  private constructor(readonly lines: JsonLines, private readonly startWallMs: number) {}

  static async start(lab: Lab, client: LabHost, vip: string): Promise<Stream> {
    const lines = new JsonLines(lab.spawn(client, toolArgv('udp-stream', ['--to', `${vip}:7000`, '--interval-ms', String(STREAM_INTERVAL_MS), '--duration-ms', '600000'])));
    const start = await lines.waitFor((r) => r.type === 'start', 5000, 'stream start');
    return new Stream(lines, Number(start.startWallMs));
  }

  get mark(): number {
    return this.lines.records.length;
  }

  /** Wall-clock ms of the first reply from `host` reported after record index `mark`. */
  async answeredBy(host: string, mark: number): Promise<number> {
    const record = await this.lines.waitFor((r) => r.type === 'owner' && r.host === host && this.lines.records.indexOf(r) >= mark, 5000, `replies from ${host}`);
    return this.startWallMs + Number(record.atMs);
  }
}

async function coldClaim(lab: Lab, stream: Stream, node: LabHost, vip: string): Promise<number> {
  const mark = stream.mark;
  const startedAt = wallNow();
  const claim = new JsonLines(lab.spawn(node, ipfoArgv(['claim', `${vip}/24`, '--dev', 'lan0', '--no-probe', '--json'])));
  const answeredAt = await stream.answeredBy(node.name, mark);
  claim.child.kill('SIGTERM');
  await claim.exited;
  return answeredAt - startedAt;
}

class Holder {
  readonly lines: JsonLines;
  constructor(lab: Lab, readonly node: LabHost, vip: string, peer: LabHost) {
    this.lines = new JsonLines(lab.spawn(node, [process.execPath, HOLDER, '--dev', 'lan0', '--ip', vip, '--peer', `${peer.ip}:7100`, '--listen', '7100']));
  }
  get mark(): number {
    return this.lines.records.length;
  }
  send(command: 'claim' | 'release' | 'handoff'): void {
    this.lines.child.stdin!.write(`${command}\n`);
  }
  async next(type: 'ready' | 'released', mark: number): Promise<number> {
    const record = await this.lines.waitFor((r) => r.type === type && this.lines.records.indexOf(r) >= mark, 5000, type);
    return Number(record.wallMs);
  }
  quit(): void {
    this.lines.child.stdin!.write('quit\n');
  }
}

async function main(): Promise<void> {
  await withLab({ nodes: 2, clients: 1, rogue: false, name: 'bench-claim' }, async (lab) => {
    const nodes = [lab.host('n1'), lab.host('n2')] as const;
    const vip = lab.vip(1);
    await startUdpEcho(lab, nodes[0]);
    await startUdpEcho(lab, nodes[1]);
    const stream = await Stream.start(lab, lab.host('c1'), vip);

    const cold: number[] = [];
    for (let rep = 0; rep < REPS; rep++) cold.push(await coldClaim(lab, stream, nodes[rep % 2]!, vip));

    const holders = [new Holder(lab, nodes[0], vip, nodes[1]), new Holder(lab, nodes[1], vip, nodes[0])] as const;
    await Promise.all(holders.map((h) => h.lines.waitFor((r) => r.type === 'opened', 5000, 'holder open')));
    holders[0].send('claim');
    await holders[0].next('ready', 0);
    await stream.answeredBy('n1', 0);
    const handoff: number[] = [];
    const coordination: number[] = [];
    const convergence: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const from = holders[rep % 2]!;
      const to = holders[(rep + 1) % 2]!;
      const mark = stream.mark;
      const [fromMark, toMark] = [from.mark, to.mark];
      from.send('handoff');
      const releasedAt = await from.next('released', fromMark);
      const readyAt = await to.next('ready', toMark);
      const answeredAt = await stream.answeredBy(to.node.name, mark);
      handoff.push(answeredAt - releasedAt);
      coordination.push(readyAt - releasedAt);
      convergence.push(answeredAt - readyAt);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    holders.forEach((h) => h.quit());
    stream.lines.child.kill('SIGTERM');
    const summary = await stream.lines.waitFor((r) => r.type === 'summary', 5000, 'stream summary');

    console.log(`bench:claim — lab LAN (veth + bridge), client datagram every ${STREAM_INTERVAL_MS} ms, ${REPS} repetitions each`);
    console.log(formatSummary('claim --no-probe start -> first answered datagram', 'ms', summarize(cold)));
    console.log(formatSummary('release on node A -> first datagram answered by B', 'ms', summarize(handoff)));
    console.log(formatSummary('  of which: A released -> B registered+announced', 'ms', summarize(coordination)));
    console.log(formatSummary('  of which: B announced -> first datagram answered', 'ms', summarize(convergence)));
    console.log(`client stream: sent ${String(summary.sent)}, answered ${String(summary.received)}, lost ${String(summary.lost)}`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
