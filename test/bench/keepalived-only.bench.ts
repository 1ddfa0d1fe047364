// keepalived alone, in the lab: the client-observed gap (longest silence of a
// one-datagram-per-ms stream) for each failover scenario, with keepalived's
// defaults and tuned. Prints median and p99 over BENCH_REPS repetitions.
//
//   npx tsc -p tsconfig.json && node build/test/bench/keepalived-only.bench.js
//   BENCH_REPS=20 BENCH_PROFILES=tuned BENCH_SCENARIOS=planned-move,link-cut node ...
//
// Not a test: it asserts nothing. Needs root and /usr/sbin/keepalived.
import { withLab } from '../lab/lab';
import { startUdpEcho } from '../lab/traffic';
import { KEEPALIVED_PROFILES, measureKeepalivedFailover, type AfterKill, type KeepalivedProfileName, type KeepalivedScenario } from './keepalived';
import { formatSummary, summarize } from './stats';

const REPS = Number(process.env.BENCH_REPS ?? 5);

interface Case {
  label: string;
  scenario: KeepalivedScenario;
  afterKill?: AfterKill;
}

const CASES: readonly Case[] = [
  { label: 'planned move (SIGTERM to the master)', scenario: 'planned-move' },
  { label: 'owner killed (SIGKILL + link cut)', scenario: 'owner-killed', afterKill: 'cut-link' },
  { label: 'owner killed (SIGKILL + address removed)', scenario: 'owner-killed', afterKill: 'remove-address' },
  { label: "owner's link cut", scenario: 'link-cut' },
];

function listFromEnv<T extends string>(name: string, all: readonly T[]): T[] {
  const text = process.env[name];
  if (text === undefined || text === '') return [...all];
  const wanted = text.split(',').map((s) => s.trim());
  const unknown = wanted.filter((w) => !all.includes(w as T));
  if (unknown.length > 0) throw new Error(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return wanted as T[];
}

async function main(): Promise<void> {
  if (!Number.isInteger(REPS) || REPS < 1) throw new Error(`BENCH_REPS must be a positive integer, got ${String(process.env.BENCH_REPS)}`);
  const profiles = listFromEnv('BENCH_PROFILES', Object.keys(KEEPALIVED_PROFILES) as KeepalivedProfileName[]);
  const scenarios = listFromEnv('BENCH_SCENARIOS', ['planned-move', 'owner-killed', 'link-cut'] as const);
  const cases = CASES.filter((c) => scenarios.includes(c.scenario));
  const lines: string[] = [];
  await withLab({ nodes: 2, clients: 1, rogue: false, name: 'bench-keepalived' }, async (lab) => {
    await startUdpEcho(lab, 'n1');
    await startUdpEcho(lab, 'n2');
    const vip = lab.vip(1);
    for (const profile of profiles) {
      const { vrrpVersion, advertIntS } = KEEPALIVED_PROFILES[profile];
      for (const c of cases) {
        const gaps: number[] = [];
        for (let rep = 0; rep < REPS; rep++) {
          const result = await measureKeepalivedFailover(lab, vip, profile, c.scenario, { afterKill: c.afterKill });
          gaps.push(result.gapMs);
          process.stderr.write(`${profile} ${c.label} #${rep + 1}: gap ${result.gapMs} ms (owner change ${result.ownerChangeGapMs} ms, lost ${result.lost}, sender stall ${String(result.report.longestSendGapMs)} ms)\n`);
        }
        lines.push(formatSummary(`keepalived ${profile} (VRRPv${vrrpVersion}, advert ${advertIntS}s): ${c.label}`, 'ms', summarize(gaps)));
      }
    }
  });
  console.log(`keepalived ${'(lab LAN: veth + bridge; client datagram every 1 ms; longest client-side gap)'}, ${REPS} repetitions each`);
  for (const line of lines) console.log(line);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
