// What a cluster of a given size costs once it is online and nothing happens (issue 13 §3): per agent its
// resident memory (/proc), its reconcile time per pass and its standby's probes per second (the agent's
// own load line, `--stats-interval`), etcd's database size, and the size of the API snapshot a console
// loads. Read from a running lab cluster whose agents were started with `--stats-interval STATS_INTERVAL_SEC`.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabCluster } from '../lab/cluster';
import type { LoadFigures } from '../../main/agent/load-line';

/** The agents' load-line interval the bench starts them with. */
export const STATS_INTERVAL_SEC = 5;

/** One agent's figures: its load line's (without the agent's own view of its memory) and its RSS read from /proc. */
export type AgentLoad = { node: string; rssMiB: number } & LineFigures;
type LineFigures = Omit<LoadFigures, 'rssBytes' | 'heapBytes'>;

export interface SteadyState {
  agents: AgentLoad[];
  etcdDbBytes: number | null;
  snapshotBytes: number;
}

const LOAD_LINE = /^load: ([\d,]+) resources?, (\d+) held here; reconcile ([\d,]+) pass(?:es)?, median ([\d.]+) ms, longest ([\d.]+) ms; standby ([\d.]+) probes\/s to ([\d,]+) owners?; memory rss ([\d.]+) MiB/;
const count = (text: string): number => Number(text.replace(/,/g, ''));

/** The load line's figures, or null when `message` is not one. Exported for its unit test. */
export function parseLoadLine(message: string): (LineFigures & { agentRssMiB: number }) | null {
  const m = LOAD_LINE.exec(message);
  if (m === null) return null;
  return { resources: count(m[1]!), heldHere: count(m[2]!), passes: count(m[3]!), passMedianMs: Number(m[4]), passLongestMs: Number(m[5]), probesPerSecond: Number(m[6]), ownersWatched: count(m[7]!), agentRssMiB: Number(m[8]) };
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}

/**
 * Waits two load lines' worth (the first covers the settling before), then reads each agent's latest
 * load line, its RSS, etcd's database size and the snapshot's size through the API of `apiNode`.
 */
export async function measureSteadyState(cluster: LabCluster, nodes: readonly string[], apiNode: string): Promise<SteadyState> {
  const since = Date.now();
  await sleep(2 * STATS_INTERVAL_SEC * 1000 + 500);
  const agents = nodes.map((node): AgentLoad => {
    const lines = cluster.agent(node).records.filter((r) => typeof r.message === 'string' && Date.parse(String(r.time)) >= since);
    const last = lines.map((r) => parseLoadLine(String(r.message))).filter((l) => l !== null).at(-1);
    if (last === undefined) throw new Error(`${node}: no load line since ${new Date(since).toISOString()} (started with --stats-interval ${STATS_INTERVAL_SEC}?)`);
    const { agentRssMiB: _agentRss, ...figures } = last;
    return { node, rssMiB: rssMiB(cluster.agent(node).child.pid), ...figures };
  });
  let etcdDbBytes: number | null = null;
  if (cluster.etcd !== null) {
    const status = JSON.parse(await cluster.etcd.etcdctlOk(['endpoint', 'status', '-w', 'json'])) as Array<{ Status?: { dbSize?: number } }>;
    etcdDbBytes = status[0]?.Status?.dbSize ?? null;
  }
  const snapshot = await cluster.api(apiNode, 'snapshot', {});
  if (!snapshot.ok) throw new Error(`snapshot through ${apiNode}: ${snapshot.code ?? ''} ${snapshot.message ?? ''}`);
  return { agents, etcdDbBytes, snapshotBytes: Buffer.byteLength(JSON.stringify(snapshot.result)) };
}

/** The figures as lines for the bench's report. */
export function formatSteadyState(label: string, state: SteadyState): string[] {
  const mib = (bytes: number | null): string => (bytes === null ? '?' : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  return [
    `${label}: etcd database ${mib(state.etcdDbBytes)}; API snapshot ${mib(state.snapshotBytes)}`,
    ...state.agents.map((a) => `  ${a.node}: rss ${a.rssMiB.toFixed(0)} MiB; ${a.heldHere} of ${a.resources} held here; reconcile ${a.passes} passes in ${STATS_INTERVAL_SEC} s, median ${a.passMedianMs.toFixed(1)} ms, longest ${a.passLongestMs.toFixed(1)} ms; standby ${a.probesPerSecond.toFixed(1)} probes/s to ${a.ownersWatched} owners`),
  ];
}
