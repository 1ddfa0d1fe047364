// npm run bench:reconcile — what one reconcile pass costs as the cluster grows (issue 13 §3): three real
// agents (main/agent/agent.ts) on fake hosts (test/unit/fake-host.ts) sharing a real file store, N
// resources put at once and brought online, then BENCH_PASSES passes timed on each agent (the time a
// pass keeps the event loop: its synchronous part, as the agent's load line counts it). Fake hosts
// make the pass the only thing measured; bench:import measures the same on kernels and etcd. Each pass
// is timed twice: with nothing changed since the last (steady state) and with one status changed.
// Prints medians and p99 per size. Not a test: it asserts nothing.
//
// Env: BENCH_COUNTS (comma-separated sizes, default 1000,3000,10000), BENCH_PASSES (per agent, 50),
// BENCH_PROFILE (a directory: a CPU profile of the timed passes per size is written there).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent } from '../../main/agent/agent';
import type { ResourceSpec } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import { FileStore } from '../../main/store/file-store';
import { FakeLan } from '../unit/fake-host';
import { formatSummary, summarize } from './stats';

const NODES = ['n1', 'n2', 'n3'] as const;
const COUNTS = (process.env.BENCH_COUNTS ?? '1000,3000,10000').split(',').map((raw) => {
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > 60_000) throw new Error(`BENCH_COUNTS: ${JSON.stringify(raw)} is not a size from 1 to 60000`);
  return count;
});
const PASSES = Number(process.env.BENCH_PASSES ?? 50);
const PROFILE_DIR = process.env.BENCH_PROFILE;
const ONLINE_TIMEOUT_MS = 180_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resource i's address in 10.231.0.0/16, past the stations' .0.x. */
function address(i: number): string {
  const n = 256 + i;
  return `10.231.${Math.floor(n / 250)}.${(n % 250) + 2}`;
}

function specs(count: number): ResourceSpec[] {
  const list: ResourceSpec[] = [];
  for (let i = 0; i < count; i++) {
    // Spread over the three nodes by preference, as bench:import's resources are.
    const validation = validateResourceSpec({ name: `r${i}`, ip: `${address(i)}/16`, preferredOwners: [NODES[i % NODES.length]!] }, { nodes: [...NODES], existing: [] });
    if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
    list.push(validation.spec);
  }
  return list;
}

/** The synchronous part of one pass: what keeps the agent's event loop. */
function timePass(agent: Agent): number {
  const reconciler = agent['reconciler'];
  const started = performance.now();
  void reconciler.reconcile();
  return performance.now() - started;
}

async function measure(count: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-bench-reconcile-'));
  const lan = new FakeLan();
  const stores: FileStore[] = [];
  const agents: Agent[] = [];
  try {
    for (const [i, node] of NODES.entries()) {
      const host = lan.host(node, `10.231.0.${i + 1}`, `02:77:00:00:00:0${i + 1}`, 16);
      const store = await FileStore.open({ dir });
      stores.push(store);
      const agent = new Agent({ node, store, version: 'bench', host, ownerSilenceMs: 250, statsIntervalMs: 0 });
      agents.push(agent);
      await agent.start();
    }
    const started = performance.now();
    await stores[0]!.putResources(specs(count));
    const view = agents[0]!.clusterView;
    const deadline = Date.now() + ONLINE_TIMEOUT_MS;
    for (;;) {
      let online = 0;
      for (const status of view.statuses.values()) if (status.state === 'online') online++;
      if (online === count) break;
      if (Date.now() > deadline) throw new Error(`${online} of ${count} online after ${ONLINE_TIMEOUT_MS} ms`);
      await sleep(50);
    }
    const onlineMs = performance.now() - started;
    await sleep(1000);
    const samples: number[] = [];
    const profiler = PROFILE_DIR === undefined ? null : new Session();
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
    }
    const afterChange: number[] = [];
    for (let pass = 0; pass < PASSES; pass++) {
      for (const agent of agents) samples.push(timePass(agent));
      await sleep(5);
      // The same pass right after one resource's status changed in the view (what an import or a
      // takeover brings on every pass): the standby's targets are worked out again.
      for (const agent of agents) {
        const statuses = agent.clusterView.statuses;
        const name = `r${pass % count}`;
        const status = statuses.get(name);
        if (status) statuses.set(name, { ...status });
        afterChange.push(timePass(agent));
      }
      await sleep(5);
    }
    if (profiler) {
      const { profile } = await profiler.post('Profiler.stop');
      const file = join(PROFILE_DIR!, `reconcile-${count}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      profiler.disconnect();
      console.log(`  profile of the timed passes: ${file}`);
    }
    console.log(formatSummary(`reconcile pass, ${count} resources over 3 nodes`, 'ms', summarize(samples)));
    console.log(formatSummary(`  the same, one status changed before each`, 'ms', summarize(afterChange)));
    console.log(`  all online ${(onlineMs / 1000).toFixed(2)} s after the put (fake hosts; one process for all three agents); load ${loadavg()[0]!.toFixed(2)}`);
  } finally {
    for (const agent of agents) await agent.stop({ handOff: false }).catch(() => undefined);
    for (const store of stores) await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`reconcile bench: sizes ${COUNTS.join(', ')}, ${PASSES} passes per agent; aim < 50 ms median at 10,000 (docs/ARCHITECTURE.md)`);
  for (const count of COUNTS) await measure(count);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
