// `ipfo agent --node <name> --store etcd://host:port|file:<dir> [--api host:port] [--api-socket P] [--token-file F]`
// (or `--config FILE`, main/service/agent-config.ts): the node agent. Binds the API's port (and socket)
// first, then joins the cluster, holds the addresses the cluster gives this node, serves the agent API
// (and the web console when built). SIGTERM/SIGINT: hand every address to another node, then leave.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { DEFAULT_STATE_DIR, keepPredecessorAddresses, stateFileName } from '../../agent/lease-deadline';
import { loadStoreAccess } from '../../store/etcd-access';
import { checkTrustedPath } from '../../fs/trusted-path';
import { openAgentHost } from './agent-host';
import { resolveAgentConfig, type AgentAnyCommand, type AgentCommand } from '../args';
import { EXIT } from '../exit-codes';
import { DEFAULT_API_SOCKET_DIR } from '../usage';
import { createOutput } from '../output';
import type { MetricsListener } from '../../metrics/server';

export const WEB_CONSOLE_DIR = resolve(__dirname, '..', '..', '..', '..', 'renderer', 'dist');

/** `ipfo agent ...`: run (options from the command line, or --config FILE and then them), install, uninstall. */
export async function agentCommand(command: AgentAnyCommand, version: string): Promise<number> {
  switch (command.action) {
    case 'install':
    case 'uninstall':
      return (await import('./agent-service.js')).agentServiceCommand(command);
    case 'run-config': {
      const text = await (await import('./agent-service.js')).readAgentConfigFile(command.configFile);
      return runAgent(resolveAgentConfig(command, text, process.platform === 'win32' ? 'win32' : 'linux'), version);
    }
    case 'run':
      return runAgent(command, version);
  }
}

/**
 * The API socket this agent listens on: --api-socket, else for root on Linux <DEFAULT_API_SOCKET_DIR>/<node>.sock
 * (one per node: lab hosts run several agents; a name too long for a socket path is hashed), else none.
 */
export function apiSocketFor(command: Pick<AgentCommand, 'apiSocket' | 'node'>, platform: NodeJS.Platform = process.platform, uid: number | undefined = process.getuid?.()): string | null {
  if (command.apiSocket !== undefined) return command.apiSocket;
  if (platform !== 'linux' || uid !== 0) return null;
  const path = `${DEFAULT_API_SOCKET_DIR}/${command.node}.sock`;
  return Buffer.byteLength(path) <= 103 ? path : `${DEFAULT_API_SOCKET_DIR}/${createHash('sha256').update(command.node).digest('hex').slice(0, 32)}.sock`;
}

/** The metrics endpoint of --metrics, bound (its TLS files read and checked first); null without --metrics. */
async function listenMetricsFor(command: AgentCommand, log: (line: string) => void): Promise<MetricsListener | null> {
  if (command.metrics === undefined) return null;
  const { host, port, tlsCert, tlsKey } = command.metrics;
  const [{ listenMetrics }, { loadTlsFiles }] = await Promise.all([import('../../metrics/server.js'), import('../../api/tls.js')]);
  const tls = tlsCert !== null && tlsKey !== null ? await loadTlsFiles(tlsCert, tlsKey) : null;
  return listenMetrics({ host, port, tls, log });
}

async function runAgent(command: AgentCommand, version: string): Promise<number> {
  const out = createOutput(command.json);
  const log = (line: string): void => out.record({ event: 'log', node: command.node, time: new Date().toISOString(), message: line }, `${new Date().toISOString()} ${command.node}: ${line}`);
  // The etcd credentials are read once, before anything starts: a wrong file is exit 2 (4 if unreadable to us).
  const storeAccess = command.storeAccess === undefined ? {} : await loadStoreAccess(command.storeAccess);
  checkTrustedPath(command.tokenFile, { label: `--token-file ${command.tokenFile}` }); // before joining: a token file another user controls is exit 2 (main/fs/trusted-path.ts)
  // The API's port and socket next, before the agent joins or touches an address: they are this
  // agent's (a second agent, or a program that took the port, stops the start here: ApiBindError,
  // exit 4, nothing joined), and a client never finds someone else there. They answer "starting"
  // until the API is attached after the join.
  const [{ listenApi }, { loadTlsFiles }, { loadOrCreateToken }] = await Promise.all([import('../../api/listen.js'), import('../../api/tls.js'), import('../../api/token.js')]);
  const token = await loadOrCreateToken(command.tokenFile);
  const tls = command.tlsCert && command.tlsKey ? await loadTlsFiles(command.tlsCert, command.tlsKey) : null;
  const listeners = await listenApi({ host: command.apiHost, port: command.apiPort, tls, socketPath: apiSocketFor(command) });
  // The metrics port too (off unless --metrics): bound now, served once the agent runs.
  const metrics = await listenMetricsFor(command, log).catch(async (error: unknown) => {
    await listeners.close();
    throw error;
  });
  // Signals from now on: a stop during the start ends it before the join (nothing to hand over), one
  // after the join hands every address over. Installed before the "listening" record: a supervisor
  // may stop the agent the moment it reads that.
  let stopping = false;
  let stop: () => void = () => undefined;
  const stopRequested = new Promise<void>((done) => {
    stop = (): void => {
      if (stopping) return;
      stopping = true;
      log('stopping: handing addresses over');
      done();
    };
  });
  const handlers = (): void => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let machine: Awaited<ReturnType<typeof openAgentHost>> | null = null;
  let closeStore: (() => Promise<void>) | null = null;
  try {
    // The machine: Linux, or Windows (its first address listing is taken here).
    machine = await openAgentHost(process.platform, { stateDir: command.stateDir, linuxStateDir: DEFAULT_STATE_DIR, log });
    const { host, stateDir } = machine;
    const stateName = stateFileName(command.node, command.store, command.cluster);
    // First, before the slow modules load: an agent restarted at once keeps its predecessor's addresses alive.
    if (command.store.startsWith('etcd://')) {
      const kept = keepPredecessorAddresses(host.addresses, stateDir, stateName, command.leaseTtlSec, { deadline: machine.renewWithDeadline });
      if (kept !== null) log(kept);
    }
    // Then join as soon as possible (an agent restarted at once must re-adopt its addresses within their
    // kernel lifetime); the API stack loads after.
    const started = performance.now();
    const [{ Agent }, { openStore }] = await Promise.all([import('../../agent/agent.js'), import('../../store/open.js')]);
    const imported = performance.now();
    const store = await openStore(command.store, { cluster: command.cluster, ...storeAccess });
    closeStore = () => store.close();
    if (stopping) throw new StoppedBeforeJoin();
    const agent = new Agent({ node: command.node, cluster: command.cluster, host, store, version, leaseTtlSec: command.leaseTtlSec, failoverProfile: command.failoverProfile, ...(command.ownerSilenceMs === null ? {} : { ownerSilenceMs: command.ownerSilenceMs }), statsIntervalMs: command.statsIntervalSec * 1000, stateDir, stateName, log });
    const opened = performance.now();
    await agent.start();
    log(`modules loaded in ${Math.round(imported - started)} ms, store opened in ${Math.round(opened - imported)} ms, joined ${Math.round(performance.now() - opened)} ms later (process up ${Math.round(performance.now())} ms)`);
    const [{ AgentApiHandler }, { startAgentServer }, { agentUserDirectory }] = await Promise.all([
      import('../../agent/api-handler.js'),
      import('../../api/server.js'),
      import('../../agent/user-commands.js'),
    ]);
    if (metrics !== null) {
      const { registerProcessMetrics } = await import('../../metrics/process-metrics.js');
      registerProcessMetrics(agent.metrics.registry);
      metrics.serve(() => agent.metrics.render());
      log(`metrics on ${metrics.url}`);
    }
    const handler = new AgentApiHandler(agent, agent.auditedStore);
    const webDir = command.webDir ?? (existsSync(join(WEB_CONSOLE_DIR, 'index.html')) ? WEB_CONSOLE_DIR : null);
    const server = await startAgentServer({ handler, token, users: agentUserDirectory(agent), listeners, staticDir: webDir, log });

    if (server.socketUrl !== null) log(`API for local clients also on ${listeners.socketPath ?? ''} (root only)`);
    out.record(
      { event: 'listening', node: command.node, url: server.url, console: webDir ? `${server.origin}/` : null, tokenFile: command.tokenFile, store: command.store },
      `agent ${command.node} on ${command.store}: API ${server.url}${webDir ? `, web console ${server.origin}/#token=<token in ${command.tokenFile}>` : ''}`,
    );
    await stopRequested;
    handlers();
    await agent.stop({ handOff: true });
    // Windows applies address changes after the call: the last removals must reach it before the process ends.
    await host.addresses.settled();
    machine.close();
    await server.close();
    await metrics?.close();
    await store.close();
    log('stopped');
    return EXIT.ok;
  } catch (error) {
    // Nothing may keep the process alive after a failed start: it must exit with its code.
    handlers();
    machine?.close();
    await listeners.close();
    await metrics?.close();
    await closeStore?.().catch(() => undefined);
    if (error instanceof StoppedBeforeJoin) {
      log('stopped before joining the cluster');
      return EXIT.ok;
    }
    throw error;
  }
}

/** A stop signal came while the agent was starting, before it joined: nothing to hand over. */
class StoppedBeforeJoin extends Error {}
