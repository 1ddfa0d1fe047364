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
  }
}
