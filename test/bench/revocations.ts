// Revocations of a live owner, read from the agents' own logs. A standby that revokes an owner logs
// "<owner> silent on ARP for <ip> for <n> ms (...): revoking its lease". In the drain scenario no owner
// is ever dead (nobody kills or freezes an agent, no link is cut), so every such line there revoked a
// live owner: the figure must be zero.
import type { LabCluster } from '../lab/cluster';

const REVOKING = /^(\S+) silent on ARP for (\S+) for (\d+) ms.*revoking its lease$/;

export interface Revocation {
  time: string;
  /** The standby that revoked. */
  by: string;
  owner: string;
  ip: string;
  message: string;
}

/** Every revocation any agent of `cluster` logged in [sinceIso, untilIso) (ISO times compare as strings). */
export function revocations(cluster: LabCluster, sinceIso: string, untilIso = '\uffff'): Revocation[] {
  const found: Revocation[] = [];
  for (const [node, agent] of cluster.agents) {
    for (const record of agent.records) {
      if (record.event !== 'log') continue;
      const time = String(record.time);
      if (time < sinceIso || time >= untilIso) continue;
      const message = String(record.message);
      const match = REVOKING.exec(message);
      if (match) found.push({ time, by: node, owner: match[1]!, ip: match[2]!, message });
    }
  }
  return found.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** One phase of a scenario: from its start to its end, as ISO times. */
export interface Phase {
  name: string;
  sinceIso: string;
  untilIso: string;
}

/** "adding 0, drain #1 0, failback #1 2, ..." and the revocations themselves (for stderr). */
export function revocationsByPhase(cluster: LabCluster, phases: readonly Phase[]): { total: number; summary: string; lines: string[] } {
  let total = 0;
  const parts: string[] = [];
  const lines: string[] = [];
  for (const phase of phases) {
    const found = revocations(cluster, phase.sinceIso, phase.untilIso);
    total += found.length;
    parts.push(`${phase.name} ${found.length}`);
    for (const r of found) lines.push(`  ${phase.name}: ${r.time} ${r.by}: ${r.message}`);
  }
  return { total, summary: parts.join(', '), lines };
}
