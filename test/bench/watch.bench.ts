// npm run bench:watch — the ARP watch under a flood, side by side with arpwatch (Debian's), in one lab:
// a bridge, the watcher host n1 and the flooder r1 (the rogue). For each rate of the ladder (BENCH_RATES,
// frames/s) and each repetition (BENCH_REPS, default 3), one run of `ipfo watch --json` and one of
// `arpwatch -d` on n1's lan0 while r1 floods for BENCH_FLOOD_MS (default 3000) with ARP requests and replies
// of 140 stations (tools/arp-flood.c), after a warm-up flood of 1 s at 20k fps (WARM_UP in watch-measure.ts,
// which also explains the counters and how each is read). Then, at BENCH_CONFLICT_RATE (default 100k fps),
// r1 puts a conflicting announcement for an address ipfo watch holds into the flood every 250 ms: latency
// from its send to the conflict line on ipfo watch's stdout (the agent API is not wired to the watch yet;
// this is the watch's own output). Not a test: it asserts nothing.
import { loadavg } from 'node:os';
import { withLab } from '../lab/lab';
import { formatSummary, summarize } from './stats';
import { measureConflicts, measureRun, type ConflictSample, type RunResult } from './watch-measure';
import { formatWatchTable, type RateRow } from './watch-table';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const RATES = (process.env.BENCH_RATES ?? '10000,25000,50000,100000,150000,200000,300000').split(',').map(Number);
const FLOOD_MS = Number(process.env.BENCH_FLOOD_MS ?? 3000);
const CONFLICT_RATE = Number(process.env.BENCH_CONFLICT_RATE ?? 100_000);
const CONFLICT_EVERY_MS = 250;

function loadAverage(): string {
  return loadavg().map((v) => v.toFixed(2)).join(' ');
}

async function main(): Promise<void> {
  await withLab({ nodes: 1, clients: 0, rogue: true, name: 'bench-watch' }, async (lab) => {
    const watcherHost = lab.host('n1');
    const flooder = lab.rogue!;
    const subnet = lab.subnet.split('.').slice(0, 3).join('.');
    const base = { lab, watcherHost, flooder, subnet, durationMs: FLOOD_MS };
    console.log(`bench:watch — lab LAN (veth + bridge), ${REPS} repetitions of ${FLOOD_MS} ms per rate and watcher; load average at start ${loadAverage()}`);
    const rows: RateRow[] = [];
    for (const rate of RATES) {
      const row: RateRow = { rate, ours: [], arpwatch: [] };
      for (let rep = 0; rep < REPS; rep++) {
        // Alternate which one runs first, so that neither always gets the quieter moment.
        const order = rep % 2 === 0 ? (['ipfo', 'arpwatch'] as const) : (['arpwatch', 'ipfo'] as const);
        for (const kind of order) {
          const result: RunResult = await measureRun(kind, { ...base, rate });
          (kind === 'ipfo' ? row.ours : row.arpwatch).push(result);
          process.stderr.write(`${kind} @${rate}: ${JSON.stringify(result)}\n`);
        }
      }
      rows.push(row);
    }
    console.log(formatWatchTable(rows));
    console.log('(drops: the capture socket\'s kernel drop counter, PACKET_STATISTICS = libpcap ps_drop; cpu: utime+stime of the watcher process over the flood + 300 ms drain, % of one core)');

    const samples: ConflictSample[] = [];
    let injected = 0;
    let reported = 0;
    let drops = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const result = await measureConflicts({ ...base, rate: CONFLICT_RATE, conflictIp: lab.vip(150), everyMs: CONFLICT_EVERY_MS });
      samples.push(...result.samples);
      process.stderr.write(`conflicts @${CONFLICT_RATE} rep ${rep}: drops ${result.drops}, send->capture ms ${result.samples.map((x) => x.toCapture.toFixed(1)).join(' ')}\n`);
      injected += result.injected;
      reported += result.reported;
      drops += result.drops;
    }
    console.log(`conflict during a ${CONFLICT_RATE / 1000}k fps flood (${REPS} runs, one conflicting announcement every ${CONFLICT_EVERY_MS} ms; measured at ipfo watch's stdout, not yet the agent API):`);
    console.log(formatSummary('rogue send -> frame handed to ipfo watch (event time)', 'ms', summarize(samples.map((s) => s.toCapture))));
    console.log(formatSummary('rogue send -> conflict line read from stdout', 'ms', summarize(samples.map((s) => s.toLine))));
    console.log(`conflicts injected ${injected}, reported ${reported}; kernel drops during these runs ${drops}; load average at end ${loadAverage()}`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
