// The cluster commands (`ipfo resource|move|online|offline|node|status|events|bindings|user`): read the token or credential,
// connect to the agent, run one operation, print its outcome, exit with a code a script can use.
// Every failure is reported here as "ipfo: ..." lines and an exit code (see cluster/outcome.ts).
import { describeHookTarget, formatHookTest, formatHooks } from '../format-hooks';
import { constants } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { connectAgent, type AgentClient } from '../../api/client';
import { readCredentialFile, readTokenFile } from '../../api/token';
import type { ActionResult } from '../../../preload/contract/protocol';
import { actionRequest, CLUSTER_USAGE, type ActionCommandType, type ActionRequest, type ClusterCommand } from '../cluster-args';
import { EXIT } from '../exit-codes';
import { DEFAULT_API_SOCKET_DIR } from '../usage';
import { formatAction, formatBindings, formatEvent, formatGroups, formatPlan, formatResourceList, formatStatus, groupsJson, statusJson } from '../format';
import { formatNewCredential, formatUsers } from '../format-users';
import { followEvents } from './cluster/follow';
import { exportResources, importResources } from './cluster/import';
import { processIo, type ClusterIo } from './cluster/io';
import { actionExitCode, describeFailure, type Phase } from './cluster/outcome';

/** Whether `path` is a socket this process may connect to and something answers on (not one a killed agent left). */
async function usableSocket(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isSocket()) return false;
    await access(path, constants.R_OK | constants.W_OK);
  } catch {
    return false;
  }
  return new Promise((resolve) => {
    const socket = connect(path);
    const done = (answers: boolean): void => {
      socket.destroy();
      resolve(answers);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The one answering agent socket in `directory` this process may use; null when there is none (not root, no agent) or several. */
export async function localAgentSocket(directory: string): Promise<string | null> {
  let names: string[];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.sock'));
  } catch {
    return null;
  }
  const usable: string[] = [];
  for (const name of names.slice(0, 16)) if (await usableSocket(join(directory, name))) usable.push(join(directory, name));
  return usable.length === 1 ? (usable[0] ?? null) : null;
}

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
    case 'plan': {
      const plan = await client.request('plan', { scenario: op.scenario });
      if (json) io.stdout(JSON.stringify(plan));
      else for (const line of formatPlan(op.scenario, plan)) io.stdout(line);
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
    case 'group-list': {
      const { snapshot } = await client.request('snapshot', {});
      if (json) io.stdout(JSON.stringify({ groups: groupsJson(snapshot.resources) }));
      else for (const line of formatGroups(snapshot.resources)) io.stdout(line);
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
    case 'user-add':
    case 'user-rotate': {
      const result = op.kind === 'user-add' ? await client.request('user.add', { name: op.name, role: op.role }) : await client.request('user.rotate', { name: op.name });
      if (json) io.stdout(JSON.stringify(result));
      else for (const line of formatNewCredential(result.user, result.credential, op.kind === 'user-add' ? 'added' : 'rotated')) io.stdout(line);
      return EXIT.ok;
    }
    case 'user-list': {
      const { users } = await client.request('user.list', {});
      if (json) io.stdout(JSON.stringify({ users }));
      else for (const line of formatUsers(users)) io.stdout(line);
      return EXIT.ok;
    }
    case 'user-remove': {
      const result = await client.request('user.remove', { name: op.name });
      io.stdout(json ? JSON.stringify(result) : `user ${result.user.name} (${result.user.role}) removed; its sessions have ended`);
      return EXIT.ok;
    }
    case 'hook-add': {
      const result = await client.request('hook.add', { hook: op.spec });
      io.stdout(json ? JSON.stringify(result) : `hook ${result.hook.name} added: ${describeHookTarget(result.hook)} on ${result.hook.events.join(',')}, from audit seq ${result.hook.afterSeq + 1} on`);
      return EXIT.ok;
    }
    case 'hook-list': {
      const result = await client.request('hook.list', {});
      if (json) io.stdout(JSON.stringify(result));
      else for (const line of formatHooks(result.hooks, result.sender, result.rejected)) io.stdout(line);
      return EXIT.ok;
    }
    case 'hook-remove': {
      const result = await client.request('hook.remove', { name: op.name });
      io.stdout(json ? JSON.stringify(result) : `hook ${result.hook.name} removed`);
      return EXIT.ok;
    }
    case 'hook-test': {
      const result = await client.request('hook.test', { name: op.name });
      io.stdout(json ? JSON.stringify(result) : formatHookTest(result.hook, result.node, result.delivery));
      return result.delivery.ok ? EXIT.ok : EXIT.runtime;
    }
    case 'resource-import':
      return importResources(client, { file: op.file, format: op.format, skipInvalid: op.skipInvalid, wait: op.wait, json }, io);
    case 'resource-export':
      return exportResources(client, { format: op.format, output: op.output, json }, io);
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
  let agent = command.agent;
  let phase: Phase = 'token';
  let client: AgentClient | null = null;
  try {
    const credential = agent.credentialFile ? await readCredentialFile(agent.credentialFile) : await readTokenFile(agent.tokenFile);
    phase = 'ca';
    const ca = agent.caFile === null ? undefined : await readFile(agent.caFile);
    phase = 'connect';
    // No --agent: the local agent's socket when this user may use it (nobody else can listen there).
    if (agent.preferSocket === true) {
      const local = await localAgentSocket(DEFAULT_API_SOCKET_DIR);
      if (local !== null) agent = { ...agent, socketPath: local };
    }
    const socketPath = agent.socketPath ?? null;
    client = await connectAgent(
      socketPath !== null
        ? { socketPath, credential, client: clientLabel() }
        : { host: agent.host, port: agent.port, credential, tls: agent.tls ? { ca } : false, client: clientLabel() },
    );
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
