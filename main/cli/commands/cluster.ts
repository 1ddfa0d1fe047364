// The cluster commands: connect to an agent, run one command, print the outcome.
import type { ClusterCommand } from '../cluster-args';
import { EXIT } from '../exit-codes';

export function clusterCommand(_command: ClusterCommand): Promise<number> {
  return Promise.resolve(EXIT.runtime);
}
