// npm run bench:metrics — what one scrape costs an agent's event loop (AgentMetrics.render(): every
// family, including one ipfo_resource_info series per resource), by the cluster's size. The render runs
// on the agent's loop, between its 50 ms ticks, so it must stay well under one tick.
// Not a test: it asserts nothing.
//
// Env: BENCH_COUNTS (resources, comma-separated, default 1000,10000,100000), BENCH_REPS (scrapes per count, 50).
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { AgentMetrics } from '../../main/metrics/agent-metrics';
import { registerProcessMetrics } from '../../main/metrics/process-metrics';
import { formatSummary, summarize } from './stats';

const COUNTS = (process.env.BENCH_COUNTS ?? '1000,10000,100000').split(',').map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 50);

for (const count of COUNTS) {
  const resources = Array.from({ length: count }, (_, i) => ({ name: `resource-${i}`, ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, state: i % 97 === 0 ? 'failed' : 'online', owner: i % 97 === 0 ? null : `n${(i % 3) + 1}` }));
  const nodes = [{ name: 'n1', state: 'online' }, { name: 'n2', state: 'online' }, { name: 'n3', state: 'down' }];
  const metrics = new AgentMetrics({
    node: 'n1',
    cluster: 'bench',
    resources: () => resources,
    nodes: () => nodes,
    held: () => Math.round(count / 3),
    leaseConfirmationAgeSec: () => 0.3,
    leaseHealthy: () => true,
    fenced: () => false,
    captures: () => [{ ifname: 'eth1', protocol: 'arp', received: 1e6, malformed: 3, kernelDropped: 0 }],
    healthVerdicts: () => ({ passing: 1, failing: 0 }),
  });
  registerProcessMetrics(metrics.registry);
  for (let i = 0; i < 1000; i++) metrics.audited({ at: 0, actor: 'n1', action: i % 2 ? 'move' : 'failover', target: 'r', outcome: 'ok', detail: null, handoffMs: i % 50 });
  let bytes = metrics.render().length; // the first render compiles the code paths: not counted
  const times: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const started = performance.now();
    bytes = metrics.render().length;
    times.push(performance.now() - started);
  }
  process.stdout.write(`${formatSummary(`scrape of ${count} resources (${(bytes / 1e6).toFixed(2)} MB)`, 'ms', summarize(times))}\n`);
}
process.stdout.write(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (2-core VM)\n`);
