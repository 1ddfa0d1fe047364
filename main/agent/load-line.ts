// The agent's load line (`--stats-interval`): what a cluster of this size costs this agent, in one line an
// operator reads and a benchmark parses (test/bench/steady-state.ts). Pure.
import { plural } from '../../preload/contract/plural';

export interface LoadFigures {
  resources: number;
  heldHere: number;
  passes: number;
  passMedianMs: number;
  passLongestMs: number;
  probesPerSecond: number;
  ownersWatched: number;
  rssBytes: number;
  heapBytes: number;
}

export function formatLoadLine(f: LoadFigures): string {
  const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
  return (
    `load: ${plural(f.resources, 'resource')}, ${f.heldHere} held here; ` +
    `reconcile ${plural(f.passes, 'pass')}, median ${f.passMedianMs.toFixed(1)} ms, longest ${f.passLongestMs.toFixed(1)} ms; ` +
    `standby ${f.probesPerSecond.toFixed(1)} probes/s to ${plural(f.ownersWatched, 'owner')}; ` +
    `memory rss ${mib(f.rssBytes)} MiB, heap ${mib(f.heapBytes)} MiB`
  );
}
