// npm run bench:renewal — what one renewal of every held address costs the kernel and the agent
// (main/net/registrar.ts register(): one netlink batch), by how many addresses a node holds. The
// kernel walks the interface's address list for every address renewed, so the cost grows faster than
// the count; cluster/fencing.ts spaces renewals by it (renewalSpacingMs). Runs as root: a network
// namespace with a veth of its own, deleted at the end (also on failure).
// Not a test: it asserts nothing.
//
// Env: BENCH_COUNTS (comma-separated, default 1000,3333,10000), BENCH_REPS (renewals per count, 20).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { renewalSpacingMs } from '../../main/cluster/fencing';
import { register } from '../../main/net/registrar';
import { formatSummary, summarize } from './stats';

const COUNTS = (process.env.BENCH_COUNTS ?? '1000,3333,10000').split(',').map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 20);
const LIFETIME_SEC = 2;

function ip(args: string[]): void {
  const result = spawnSync('ip', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ip ${args.join(' ')}: ${result.stderr.trim()}`);
}

/** The measurement, run inside the namespace (this file again, with the count as argument). */
function measureHere(count: number): void {
  const list = Array.from({ length: count }, (_, i) => ({ ifname: 'bren0', ip: `10.252.${1 + Math.floor(i / 250)}.${(i % 250) + 2}`, prefix: 16, validLftSec: 30, preferredLftSec: 30 }));
  const failed = register(list).filter((result) => !result.ok).length;
  if (failed > 0) throw new Error(`${failed} of ${count} addresses could not be registered`);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const before = process.cpuUsage();
    const started = process.hrtime.bigint();
    register(list);
    wall.push(Number(process.hrtime.bigint() - started) / 1e6);
    const used = process.cpuUsage(before);
    cpu.push((used.user + used.system) / 1000);
  }
  const median = summarize(wall).median;
  console.log(formatSummary(`renewal of ${count} addresses (wall)`, 'ms', summarize(wall)));
  console.log(formatSummary(`renewal of ${count} addresses (CPU, user + system)`, 'ms', summarize(cpu)));
  const spacing = renewalSpacingMs(LIFETIME_SEC, median);
  console.log(`  renewals every ${Math.round(spacing)} ms (lifetime ${LIFETIME_SEC} s): ${((100 * median) / spacing).toFixed(0)} % of the loop; at a fixed 200 ms: ${((100 * median) / 200).toFixed(0)} %`);
}

function main(): void {
  const inside = process.argv[2];
  if (inside !== undefined) return measureHere(Number(inside));
  if (COUNTS.some((count) => !Number.isInteger(count) || count < 1 || count > 60_000)) throw new Error(`BENCH_COUNTS: sizes from 1 to 60000, not ${process.env.BENCH_COUNTS}`);
  const ns = `ipfo-bren-${process.pid}`;
  console.log(`renewal bench: ${REPS} renewals per size, on a veth in namespace ${ns}; load ${loadavg()[0]!.toFixed(2)}`);
  ip(['netns', 'add', ns]);
  try {
    ip(['-n', ns, 'link', 'add', 'bren0', 'type', 'veth', 'peer', 'name', 'bren1']);
    ip(['-n', ns, 'link', 'set', 'bren0', 'up']);
    ip(['-n', ns, 'link', 'set', 'bren1', 'up']);
    ip(['-n', ns, 'addr', 'add', '10.252.0.1/16', 'dev', 'bren0']);
    for (const count of COUNTS) {
      const child = spawnSync('ip', ['netns', 'exec', ns, process.execPath, __filename, String(count)], { stdio: 'inherit', env: process.env });
      if (child.status !== 0) throw new Error(`the measurement of ${count} failed`);
      ip(['-n', ns, 'addr', 'flush', 'dev', 'bren0']);
      ip(['-n', ns, 'addr', 'add', '10.252.0.1/16', 'dev', 'bren0']);
    }
  } finally {
    ip(['netns', 'del', ns]);
  }
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
