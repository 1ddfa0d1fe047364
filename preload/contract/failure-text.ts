// Why a resource failed, in one line: the agent's log and audit entries, the CLI and the console all
// say it the same way, so an operator can grep one for what another showed.
import type { FailureReason } from './domain';

export function describeFailure(failure: FailureReason): string {
  switch (failure.kind) {
    case 'conflict': return `conflict with MAC ${failure.mac}`;
    case 'no-eligible-node': return 'no eligible node';
    case 'no-healthy-node': return 'no node passes its health checks';
    case 'interface-missing': return `interface missing on ${failure.node}: ${failure.detail}`;
    case 'register-failed': return `could not register on ${failure.node}: ${failure.detail}`;
    case 'banned-everywhere': return 'every node that may hold it is banned after failures there (ipfo resource cleanup lifts the bans)';
    case 'failover-limit': return `${failure.count} ${failure.count === 1 ? 'move' : 'moves'} caused by failures within ${windowText(failure.windowSec)}: it stays put (ipfo resource cleanup resets the count); ${failure.detail}`;
  }
}

/** A threshold's window in the largest whole unit: "1 h", "30 min", "90 s". */
function windowText(sec: number): string {
  if (sec % 86_400 === 0) return `${sec / 86_400} d`;
  if (sec % 3_600 === 0) return `${sec / 3_600} h`;
  if (sec % 60 === 0) return `${sec / 60} min`;
  return `${sec} s`;
}
