// `ipfo agent --node <name> --store etcd://host:port|file:<dir> [--api host:port] [--token-file F]`
// (or `--config FILE`, main/service/agent-config.ts): the node agent. Joins the cluster, holds the
// addresses the cluster gives this node, serves the agent API (and the web console when built).
// SIGTERM/SIGINT: hand every address to another node, then leave.
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { DEFAULT_STATE_DIR, keepPredecessorAddresses } from '../../agent/lease-deadline';
import { loadStoreAccess } from '../../store/etcd-access';
import { checkTrustedPath } from '../../fs/trusted-path';
import { openAgentHost } from './agent-host';
import { resolveAgentConfig, type AgentAnyCommand, type AgentCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput } from '../output';

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

async function runAgent(command: AgentCommand, version: string): Promise<number> {
  const out = createOutput(command.json);
  const log = (line: string): void => out.record({ event: 'log', node: command.node, time: new Date().toISOString(), message: line }, `${new Date().toISOString()} ${command.node}: ${line}`);
  // The etcd credentials are read once, before anything starts: a wrong file is exit 2 (4 if unreadable to us).
  const storeAccess = command.storeAccess === undefined ? {} : await loadStoreAccess(command.storeAccess);
  checkTrustedPath(command.tokenFile, { label: `--token-file ${command.tokenFile}` }); // before joining: a token file another user controls is exit 2 (main/fs/trusted-path.ts)
  // The machine: Linux, or Windows (its first address listing is taken here).
  const machine = await openAgentHost(process.platform, { stateDir: command.stateDir, linuxStateDir: DEFAULT_STATE_DIR, log });
  const { host, stateDir } = machine;
  // First, before the slow modules load: an agent restarted at once keeps its predecessor's addresses alive.
  if (command.store.startsWith('etcd://')) {
    const kept = keepPredecessorAddresses(host.addresses, stateDir, command.node, command.leaseTtlSec, { deadline: machine.renewWithDeadline });
    if (kept !== null) log(kept);
  }
  // Then join as soon as possible (an agent restarted at once must re-adopt its addresses within their
  // kernel lifetime); the API stack loads after.
  const started = performance.now();
  const [{ Agent }, { openStore }] = await Promise.all([import('../../agent/agent.js'), import('../../store/open.js')]);
  const imported = performance.now();
  const store = await openStore(command.store, { cluster: command.cluster, ...storeAccess });
  const agent = new Agent({ node: command.node, host, store, version, leaseTtlSec: command.leaseTtlSec, ownerSilenceMs: command.ownerSilenceMs, stateDir, log });
  const opened = performance.now();
  await agent.start();
  log(`modules loaded in ${Math.round(imported - started)} ms, store opened in ${Math.round(opened - imported)} ms, joined ${Math.round(performance.now() - opened)} ms later (process up ${Math.round(performance.now())} ms)`);
  const [{ AgentApiHandler }, { startAgentServer }, { loadTlsFiles }, { loadOrCreateToken }] = await Promise.all([
    import('../../agent/api-handler.js'),
    import('../../api/server.js'),
    import('../../api/tls.js'),
    import('../../api/token.js'),
  ]);
  const token = await loadOrCreateToken(command.tokenFile);
  const tls = command.tlsCert && command.tlsKey ? await loadTlsFiles(command.tlsCert, command.tlsKey) : null;
  const handler = new AgentApiHandler(agent, store);
  const webDir = command.webDir ?? (existsSync(join(WEB_CONSOLE_DIR, 'index.html')) ? WEB_CONSOLE_DIR : null);
  const server = await startAgentServer({ handler, token, host: command.apiHost, port: command.apiPort, tls, staticDir: webDir, log });

  // Listening for SIGTERM before saying "listening": a supervisor may stop the agent the moment it reads that.
  const stopRequested = new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      log('stopping: handing addresses over');
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  out.record(
    { event: 'listening', node: command.node, url: server.url, console: webDir ? `${server.origin}/` : null, tokenFile: command.tokenFile, store: command.store },
    `agent ${command.node} on ${command.store}: API ${server.url}${webDir ? `, web console ${server.origin}/#token=<token in ${command.tokenFile}>` : ''}`,
  );
  await stopRequested;
  await agent.stop({ handOff: true });
  // Windows applies address changes after the call: the last removals must reach it before the process ends.
  await host.addresses.settled();
  machine.close();
  await server.close();
  await store.close();
  log('stopped');
  return EXIT.ok;
}
