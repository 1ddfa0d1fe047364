// Parsing of the cluster commands that talk to an agent (resource, move, online, offline, node, status,
// events). Pure: bad input is a UsageError (exit 2) before any connection is made.
import { UsageError } from './args';

export const CLUSTER_COMMAND_NAMES = ['resource', 'move', 'online', 'offline', 'node', 'status', 'events'] as const;
export type ClusterCommandName = (typeof CLUSTER_COMMAND_NAMES)[number];

export function isClusterCommandName(name: string): name is ClusterCommandName {
  return (CLUSTER_COMMAND_NAMES as readonly string[]).includes(name);
}

/** Where the agent is: --agent host:port (default the local agent) and --token-file. */
export interface AgentAddress {
  host: string;
  port: number;
  tokenFile: string;
  tls: boolean;
  caFile: string | null;
}

export interface ClusterCommand {
  kind: 'cluster';
  name: ClusterCommandName;
  agent: AgentAddress;
  json: boolean;
  args: readonly string[];
}

export const CLUSTER_USAGE = `cluster commands (reach an agent with --agent host:port --token-file F; default the local agent):
  (being written)`;

export function parseClusterCommand(name: ClusterCommandName, _argv: readonly string[]): ClusterCommand {
  throw new UsageError(`${name}: not implemented yet`);
}
