// BENCH_AGENT_LOG_DIR: every agent's JSON lines, one file per node, for a look after a benchmark run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabCluster } from '../lab/cluster';

export function saveAgentLogs(cluster: LabCluster, note: (line: string) => void): void {
  const dir = process.env.BENCH_AGENT_LOG_DIR;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  for (const [node, agent] of cluster.agents) writeFileSync(join(dir, `${node}.jsonl`), agent.records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  note(`agent logs in ${dir}`);
}
