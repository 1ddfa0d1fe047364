// The bulk import benchmark (issue 13 §2; aim: 10,000 resources imported and online in under 10 s):
// a lab cluster of three agents on etcd, 10,000 resources in a /18 of their own (drain-range.ts), and
// per repetition:
//   1. `ipfo resource import FILE --json` on n3 while an ARP sweep from the client c1 asks for every
//      address: the CLI's own figures (rows checked and created; every created resource settled in the
//      agent's view) and the client's (every address answered on the LAN), from the CLI's start;
//   2. etcd's write counters over the import and the agents bringing everything online (puts, txns,
//      raft proposals committed; the etcd revision count is one per write transaction);
//   3. `ipfo resource export` in the same format: the text must be the imported file's, byte for byte
//      (the file was written by the exporter's own formatter, so "unchanged" is exact);
//   4. the cluster cleared (etcdctl del of every resource key) until every agent let its addresses go;
//      the next repetition imports the previous one's EXPORT, so the round trip is also imported back.
// Medians and p99 over BENCH_REPS. A benchmark prints figures; it is not a test.
//
//   BENCH_REPS (3)                 repetitions
//   BENCH_IMPORT_COUNT (10000)     resources per import
//   BENCH_IMPORT_FORMAT (csv)      csv or json
//   BENCH_SWEEP (1)                0: no ARP sweep from the client (the agents' view only)
//   BENCH_SWEEP_ROUND_MS (100), BENCH_SWEEP_BURST (16)
//   BENCH_AGENT_LOG_DIR            every agent's JSON lines, one file per node, after the run
// Where the time goes: IPFO_LAB_NODE_FLAGS='--cpu-prof --cpu-prof-dir=DIR' profiles every ipfo process
// (test/lab/ipfo.ts; the agents are stopped with SIGTERM at the end, so theirs are written too).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLab, type Lab } from '../lab/lab';
import { LabCluster } from '../lab/cluster';
import type { ResourceSpec } from '../../main/cluster/model';
import { formatTable, type TableFormat } from '../../main/cluster/resource-table';
import { addDrainRange, importRange } from './drain-range';
import { startArpSweep, type SweepSummary } from './arp-sweep';
import { formatSummary, summarize } from './stats';
import { revocations } from './revocations';
import { formatSteadyState, measureSteadyState, STATS_INTERVAL_SEC, type SteadyState } from './steady-state';
import { saveAgentLogs } from './agent-logs';

const REPS = Number(process.env.BENCH_REPS ?? 3);
const COUNT = Number(process.env.BENCH_IMPORT_COUNT ?? 10_000);
const FORMAT = (process.env.BENCH_IMPORT_FORMAT ?? 'csv') as TableFormat;
const SWEEP = process.env.BENCH_SWEEP !== '0';
const SWEEP_ROUND_MS = Number(process.env.BENCH_SWEEP_ROUND_MS ?? 100);
const SWEEP_BURST = Number(process.env.BENCH_SWEEP_BURST ?? 16);
const IMPORT_TIMEOUT_MS = 300_000;
const NODES = ['n1', 'n2', 'n3'];
const RESOURCE_KEYS = 'ipfo/default/resources/';

const note = (text: string): void => void process.stderr.write(`${text}\n`);

interface Sample {
  /** From spawning the CLI to its summary line (the process start, login and snapshot included). */
  cliWallMs: number;
  /** The CLI's own: checking every row and creating them all. */
  createMs: number;
  /** The CLI's own: until every created resource settled (online) in the agent's view; null if not all did. */
  onlineMs: number | null;
  online: number;
  failed: number;
  /** From spawning the CLI until the client's sweep had every address answered; null without a sweep or if not all. */
  arpMs: number | null;
  etcd: EtcdCounters;
  exportIdentical: boolean;
  clearMs: number;
}

interface EtcdCounters {
  revision: number;
  puts: number;
  txns: number;
  deletes: number;
  proposals: number;
  /** WAL fsyncs and the seconds they took (etcd_disk_wal_fsync_duration_seconds count and sum). */
  fsyncs: number;
  fsyncSec: number;
}

function specs(addresses: readonly string[], prefix: number): ResourceSpec[] {
  return addresses.map((ip, i) => ({
    name: `imp-${String(i).padStart(5, '0')}`,
    ip,
    prefix,
    possibleOwners: [],
    // Spread over the three nodes, as a real import would be; every one on its preferred node once online.
    preferredOwners: [NODES[i % NODES.length]!],
    failback: { mode: 'immediate' },
    interfaces: { n1: 'lan0', n2: 'lan0', n3: 'lan0' },
    enabled: true,
    announceForm: 'request',
    defendPolicy: 'always',
  }));
}

/** etcd's write counters (its /metrics, read from inside the etcd host's namespace) and its revision. */
async function etcdCounters(lab: Lab, cluster: LabCluster): Promise<EtcdCounters> {
  const url = `http://${cluster.etcd!.endpoint}/metrics`;
  const run = await lab.run('c2', [process.execPath, '-e', `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`], { timeoutMs: 20_000 });
  const metric = (pattern: RegExp): number => {
    const match = pattern.exec(run.stdout);
    return match === null ? Number.NaN : Number(match[1]);
  };
  const status = JSON.parse(await cluster.etcd!.etcdctlOk(['endpoint', 'status', '-w', 'json'])) as Array<{ Status: { header: { revision: number } } }>;
  return {
    revision: Number(status[0]?.Status.header.revision ?? Number.NaN),
    puts: metric(/^etcd_(?:debugging_)?mvcc_put_total (\S+)$/m),
    txns: metric(/^etcd_(?:debugging_)?mvcc_txn_total (\S+)$/m),
    deletes: metric(/^etcd_(?:debugging_)?mvcc_delete_total (\S+)$/m),
    proposals: metric(/^etcd_server_proposals_committed_total (\S+)$/m),
    fsyncs: metric(/^etcd_disk_wal_fsync_duration_seconds_count (\S+)$/m),
    fsyncSec: metric(/^etcd_disk_wal_fsync_duration_seconds_sum (\S+)$/m),
  };
}

function delta(after: EtcdCounters, before: EtcdCounters): EtcdCounters {
  return {
    revision: after.revision - before.revision, puts: after.puts - before.puts, txns: after.txns - before.txns, deletes: after.deletes - before.deletes,
    proposals: after.proposals - before.proposals, fsyncs: after.fsyncs - before.fsyncs, fsyncSec: Math.round((after.fsyncSec - before.fsyncSec) * 1000) / 1000,
  };
}

interface Summary {
  event: string;
  createMs?: number;
  onlineMs?: number | null;
  online?: number;
  failed?: number;
  created?: number;
  bad?: number;
}

/** One import of `file`, measured. */
async function measureImport(lab: Lab, cluster: LabCluster, file: string, addresses: readonly string[], fromIp: string): Promise<Omit<Sample, 'exportIdentical' | 'clearMs'>> {
  const before = await etcdCounters(lab, cluster);
  const sweep = SWEEP ? await startArpSweep(lab, 'c1', { fromIp, targets: addresses, until: { notMac: lab.host('c1').mac }, timeoutMs: IMPORT_TIMEOUT_MS, roundMs: SWEEP_ROUND_MS, burst: SWEEP_BURST }) : null;
  const startedWall = Date.now();
  const run = await cluster.cli('n3', ['resource', 'import', file, '--json'], IMPORT_TIMEOUT_MS);
  const cliWallMs = Date.now() - startedWall;
  const records = run.stdout.trim().split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Summary);
  const summary = records.find((record) => record.event === 'summary');
  // Exit 1 with a summary: some resources failed; counted, not an error of the benchmark.
  if ((run.code !== 0 && run.code !== 1) || summary === undefined) {
    await sweep?.stop();
    throw new Error(`ipfo resource import exited ${run.code}: ${run.stderr.slice(-2000)} ${run.stdout.slice(-2000)}`);
  }
  let swept: SweepSummary | null = null;
  if (sweep !== null) {
    swept = await Promise.race([sweep.done, sleep(60_000).then(() => sweep.stop())]);
    if (swept.reason !== 'converged') note(`WARNING the sweep ended ${swept.reason}: ${swept.unsettledCount} of ${swept.targets} unanswered, e.g. ${JSON.stringify(swept.unsettledSample.slice(0, 5))}`);
  }
  // The agents' writes continue a little after the last status (audit batches): let them land.
  await sleep(1_000);
  const after = await etcdCounters(lab, cluster);
  return {
    cliWallMs,
    createMs: summary.createMs ?? Number.NaN,
    onlineMs: summary.onlineMs ?? null,
    online: summary.online ?? 0,
    failed: summary.failed ?? 0,
    arpMs: swept?.allSettledAtWallMs == null ? null : swept.allSettledAtWallMs - startedWall,
    etcd: delta(after, before),
  };
}

/**
 * Deletes every resource key and waits until the agents let every address go (owner keys, the kernels);
 * then deletes what statuses are left (a failed resource's status has no owner to delete it).
 */
async function clearCluster(lab: Lab, cluster: LabCluster, addresses: readonly string[]): Promise<number> {
  const started = Date.now();
  await cluster.etcd!.etcdctlOk(['del', '--prefix', RESOURCE_KEYS]);
  const wanted = new Set(addresses);
  const deadline = started + 120_000;
  for (;;) {
    const owners = (await cluster.etcd!.etcdctlOk(['get', '--prefix', '--limit', '1', '-w', 'json', 'ipfo/default/owners/'])).match(/"count":(\d+)/)?.[1] ?? '0';
    let held = 0;
    for (const node of NODES) held += (await lab.addresses(node)).filter((a) => wanted.has(a.split('/')[0]!)).length;
    if (owners === '0' && held === 0) break;
    if (Date.now() > deadline) throw new Error(`clearing: still ${owners} owner keys, ${held} addresses held after 120 s`);
    await sleep(250);
  }
  await cluster.etcd!.etcdctlOk(['del', '--prefix', 'ipfo/default/status/']);
  return Date.now() - started;
}

/** The steady state after the first import that brought everything online (issue 13 §3). */
let steady: SteadyState | null = null;

async function main(): Promise<void> {
  if (FORMAT !== 'csv' && FORMAT !== 'json') throw new Error(`BENCH_IMPORT_FORMAT must be csv or json, got "${String(process.env.BENCH_IMPORT_FORMAT)}"`);
  const started = performance.now();
  const loadAtStart = loadavg()[0] ?? Number.NaN;
  const samples: Sample[] = [];
  const errors: string[] = [];
  let labId = '';
  let revoked = 0;
  const scratch = mkdtempSync(join(tmpdir(), 'ipfo-import-bench-'));
  try {
    await withLab({ nodes: 3, clients: 2, rogue: false, name: 'bench-import' }, async (lab) => {
      labId = `${lab.id} (${lab.subnet})`;
      const range = importRange(lab);
      await addDrainRange(lab, range);
      const addresses = range.virtualAddresses(COUNT);
      const input = formatTable(specs(addresses, range.prefix), FORMAT);
      let file = join(scratch, `import-0.${FORMAT}`);
      writeFileSync(file, input);
      note(`${COUNT} resources in ${range.cidr}, ${FORMAT} file of ${(input.length / 1024 / 1024).toFixed(1)} MiB`);
      const cluster = await LabCluster.start(lab, { etcdHost: 'c2', agentArgs: ['--stats-interval', String(STATS_INTERVAL_SEC)] });
      const sinceIso = new Date().toISOString();
      try {
        for (let rep = 0; rep < REPS; rep++) {
          try {
            const measured = await measureImport(lab, cluster, file, addresses, range.hostAddress(lab.host('c1')));
            // Issue 13 §3: what the cluster costs once everything is online and nothing happens (once per run).
            if (steady === null && measured.failed === 0) {
              steady = await measureSteadyState(cluster, NODES, 'n3');
              for (const line of formatSteadyState(`steady state with ${COUNT} resources online`, steady)) note(line);
            }
            const exported = join(scratch, `import-${rep + 1}.${FORMAT}`);
            const exportRun = await cluster.cli('n1', ['resource', 'export', '--format', FORMAT, '--output', exported], 120_000);
            if (exportRun.code !== 0) throw new Error(`export exited ${exportRun.code}: ${exportRun.stderr}`);
            const exportIdentical = readFileSync(exported, 'utf8') === input;
            const clearMs = await clearCluster(lab, cluster, addresses);
            const sample: Sample = { ...measured, exportIdentical, clearMs };
            samples.push(sample);
            note(`import #${rep + 1} (${rep === 0 ? 'generated file' : 'the previous export'}): CLI ${sample.cliWallMs} ms wall; created in ${sample.createMs} ms; all settled ${sample.onlineMs ?? 'NOT'} ms (${sample.online} online, ${sample.failed} failed); all answer ARP ${sample.arpMs ?? 'n/a'} ms; etcd ${JSON.stringify(sample.etcd)}; export identical: ${sample.exportIdentical}; cleared in ${sample.clearMs} ms`);
            file = exported;
          } catch (error) {
            errors.push(String(error));
            note(`import #${rep + 1} FAILED: ${String(error)}`);
            await clearCluster(lab, cluster, addresses).catch((clearError: unknown) => note(`clearing after the failure: ${String(clearError)}`));
          }
        }
        revoked = revocations(cluster, sinceIso).length;
      } finally {
        saveAgentLogs(cluster, note);
        // A graceful stop, so that agents run with NODE_OPTIONS=--cpu-prof write their profiles.
        await Promise.race([Promise.all(NODES.map((node) => cluster.stopAgent(node))), sleep(30_000)]);
        await cluster.destroy();
      }
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  const figures = (pick: (s: Sample) => number | null): number[] => samples.map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  console.log('');
  console.log(`ipfo resource import: ${COUNT} resources (${FORMAT}) into a 3-node lab cluster on etcd; ${samples.length} of ${REPS} repetitions measured`);
  console.log(`lab ${labId}: nodes n1-n3, client c1 (ARP sweep ${SWEEP ? `every ${SWEEP_ROUND_MS} ms, ${SWEEP_BURST}/ms` : 'off'}), etcd on c2; ${cpus().length} CPUs`);
  console.log('');
  console.log(formatSummary('CLI start to summary (wall)', 'ms', summarize(figures((s) => s.cliWallMs))));
  console.log(formatSummary('rows checked + created (CLI)', 'ms', summarize(figures((s) => s.createMs))));
  console.log(formatSummary('all online in the agents\' view (CLI)', 'ms', summarize(figures((s) => s.onlineMs))));
  if (SWEEP) console.log(formatSummary('all answer ARP at the client (from CLI start)', 'ms', summarize(figures((s) => s.arpMs))));
  console.log(formatSummary('etcd write transactions (revisions)', '', summarize(figures((s) => s.etcd.revision))));
  console.log(formatSummary('etcd puts', '', summarize(figures((s) => s.etcd.puts))));
  console.log(formatSummary('etcd txns', '', summarize(figures((s) => s.etcd.txns))));
  console.log(formatSummary('etcd raft proposals committed', '', summarize(figures((s) => s.etcd.proposals))));
  console.log(formatSummary('etcd WAL fsyncs', '', summarize(figures((s) => s.etcd.fsyncs))));
  console.log(formatSummary('etcd WAL fsync time', 's', summarize(figures((s) => s.etcd.fsyncSec))));
  console.log(formatSummary('clear (del all, every address let go)', 'ms', summarize(figures((s) => s.clearMs))));
  console.log(`export identical to the imported file: ${samples.map((s) => (s.exportIdentical ? 'yes' : 'NO')).join(', ')}; failed resources: ${samples.map((s) => s.failed).join(', ')}`);
  console.log(`revocations of a live owner during the run (must be 0): ${revoked}`);
  if (errors.length > 0) console.log(`FAILED repetitions: ${errors.length}\n  ${errors.join('\n  ')}`);
  if (steady !== null) for (const line of formatSteadyState(`steady state with ${COUNT} resources online (issue 13 §3; aims in docs/ARCHITECTURE.md)`, steady)) console.log(line);
  console.log('aim (issue 13 §2): 10,000 imported and online in < 10 s');
  console.log(`run took ${((performance.now() - started) / 60_000).toFixed(1)} min; 1-min load average ${loadAtStart.toFixed(1)} at the start, ${(loadavg()[0] ?? Number.NaN).toFixed(1)} at the end`);
  if (errors.length > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
