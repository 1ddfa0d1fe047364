// The cluster commands (`ipfo resource|move|online|offline|node|status|events`): read the token,
// connect to the agent, run one operation, print its outcome, exit with a code a script can use.
// Every failure is reported here as "ipfo: ..." lines and an exit code (see cluster/outcome.ts).
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { connectAgent, type AgentClient } from '../../api/client';
import { readTokenFile } from '../../api/token';
import type { ActionResult } from '../../../preload/contract/protocol';
import { actionRequest, CLUSTER_USAGE, type ActionCommandType, type ActionRequest, type ClusterCommand } from '../cluster-args';
import { EXIT } from '../exit-codes';
import { formatAction, formatBindings, formatEvent, formatResourceList, formatStatus, statusJson } from '../format';
import { followEvents } from './cluster/follow';
import { processIo, type ClusterIo } from './cluster/io';
import { actionExitCode, describeFailure, type Phase } from './cluster/outcome';

/** How this CLI session appears in the audit log: "cli:<user>" (the agent appends the peer address). */
export function clientLabel(user: () => string = () => userInfo().username): string {
  let name: string;
  try {
    name = user().replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 60);
  } catch {
    name = ''; // no passwd entry (a container's random uid): still a CLI session
  }
  return name === '' ? 'cli' : `cli:${name}`;
}

function send<T extends ActionCommandType>(client: AgentClient, request: ActionRequest<T>): Promise<ActionResult> {
  return client.request<T>(request.type, request.args);
}

async function runOperation(client: AgentClient, command: ClusterCommand, io: ClusterIo): Promise<number> {
  const { op, json } = command;
  switch (op.kind) {
    case 'status': {
      const { snapshot } = await client.request('snapshot', {});
      if (json) io.stdout(JSON.stringify(statusJson(snapshot)));
      else for (const line of formatStatus(snapshot, io.now())) io.stdout(line);
      return EXIT.ok;
    }
    case 'bindings': {
      const { nodes } = await client.request('bindings.query', {});
      if (json) io.stdout(JSON.stringify({ nodes }));
      else for (const line of formatBindings(nodes, io.now())) io.stdout(line);
      return EXIT.ok;
    }
    case 'resource-list': {
      const { snapshot } = await client.request('snapshot', {});
      if (json) io.stdout(JSON.stringify({ resources: snapshot.resources }));
      else for (const line of formatResourceList(snapshot.resources)) io.stdout(line);
      return EXIT.ok;
    }
    case 'events': {
      const print = (entry: Parameters<typeof formatEvent>[0]): void => io.stdout(json ? JSON.stringify(entry) : formatEvent(entry));
      if (op.follow) return followEvents(client, op, io, print);
      const filter = Object.keys(op.filter).length === 0 ? {} : { filter: op.filter };
      const { entries } = await client.request('events.query', { limit: op.limit, ...filter });
      for (const entry of entries) print(entry);
      return EXIT.ok;
    }
    case 'help':
      io.stdout(CLUSTER_USAGE);
      return EXIT.ok;
    default: {
      const result = await send(client, actionRequest(op));
      io.stdout(json ? JSON.stringify(result) : formatAction(op, result));
      return actionExitCode(op, result);
    }
  }
}

export async function clusterCommand(command: ClusterCommand, io: ClusterIo = processIo()): Promise<number> {
  if (command.op.kind === 'help') {
    io.stdout(CLUSTER_USAGE);
    return EXIT.ok;
  }
  const { agent } = command;
  let phase: Phase = 'token';
  let client: AgentClient | null = null;
  try {
    const token = await readTokenFile(agent.tokenFile);
    phase = 'ca';
    const ca = agent.caFile === null ? undefined : await readFile(agent.caFile);
    phase = 'connect';
    client = await connectAgent({ host: agent.host, port: agent.port, token, tls: agent.tls ? { ca } : false, client: clientLabel() });
    phase = 'command';
    return await runOperation(client, command, io);
  } catch (error) {
    const failure = describeFailure(error, agent, phase, command.op);
    if (command.json) io.stdout(JSON.stringify({ error: failure.json }));
    for (const line of failure.lines) io.stderr(`ipfo: ${line}`);
    return failure.exitCode;
  } finally {
    await client?.close();
  }
}
