// `npm start`: opens the console on the embedded default (a local single-host agent, no etcd).
// The desktop console (Electron) where it can run; elsewhere one line saying why, then the web
// console on loopback: the running agent's URL, or a local agent started here, with its token.
// `npm start -- <args>` runs the `ipfo` command with those arguments instead (as before).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { EXIT } from '../cli/exit-codes';
import { findElectronBinary } from './electron-binary';
import { agentAnswers, defaultLocalAgentSettings, readLocalToken, type LocalAgentSettings } from './local-agent';
import { decideStart, hasDisplay } from './start-decision';

const ROOT = resolve(__dirname, '..', '..', '..');
const IPFO_BIN = join(ROOT, 'bin', 'ipfo');
const NATIVE_ADDON = join(ROOT, 'main', 'native', 'build', 'Release', 'ipfo_netlink.node');
const RENDERER_INDEX = join(ROOT, 'renderer', 'dist', 'index.html');

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Resolves with the child's exit code. While it runs, SIGINT and SIGTERM to this process are passed
 * on to it once and this process waits for it: the child must be in its own process group
 * (detached), or a Ctrl-C would reach it twice, and an agent stops at once on a second signal
 * instead of handing its addresses over.
 */
function waitFor(child: ChildProcess): Promise<number> {
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((done) => {
    const finish = (code: number): void => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      done(code);
    };
    child.on('error', (error) => {
      say(`cannot run ${child.spawnfile}: ${error.message}`);
      finish(EXIT.runtime);
    });
    child.on('exit', (code, signal) => finish(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0))));
  });
}

function run(command: string, args: string[]): Promise<number> {
  return waitFor(spawn(command, args, { cwd: ROOT, stdio: 'inherit', detached: true }));
}

/** The parts `npm run build:ts` does not make: the netlink addon, and the web console when it has a build script. */
async function buildIfNeeded(): Promise<void> {
  if (!existsSync(NATIVE_ADDON)) {
    say('building the netlink addon (npm run build:native)...');
    const code = await run('npm', ['run', '--silent', 'build:native']);
    if (code !== 0) throw new Error('npm run build:native failed');
  }
  if (!existsSync(RENDERER_INDEX)) {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    if (scripts['build:renderer'] !== undefined) {
      say('building the web console (npm run build:renderer)...');
      if ((await run('npm', ['run', '--silent', 'build:renderer'])) !== 0) throw new Error('npm run build:renderer failed');
    }
  }
}

function consoleUrl(settings: LocalAgentSettings, token: string | null): string {
  const base = `http://${settings.host}:${settings.port}/`;
  return token === null ? `${base} (token: sudo cat ${settings.tokenFile}, then open ${base}#token=<token>)` : `${base}#token=${token}`;
}

interface AgentLine {
  event?: unknown;
  message?: unknown;
  time?: unknown;
  url?: unknown;
  console?: unknown;
}

/** Runs a single-host agent in the foreground and prints its console URL once it listens. */
async function serveLocalAgent(settings: LocalAgentSettings): Promise<number> {
  await buildIfNeeded();
  const child = spawn(
    process.execPath,
    [IPFO_BIN, 'agent', '--node', settings.node, '--store', `file:${settings.storeDir}`, '--api', `${settings.host}:${settings.port}`, '--token-file', settings.tokenFile, '--json'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  const exit = waitFor(child);
  if (child.stdout !== null) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      let record: AgentLine;
      try {
        record = JSON.parse(line) as AgentLine;
      } catch {
        say(line);
        return;
      }
      if (record.event === 'listening') {
        // The agent's log names the token file, never the token (logs reach the journal): read it here.
        const built = typeof record.console === 'string';
        void readLocalToken(settings.tokenFile).then((token) => {
          if (built) say(`web console: ${consoleUrl(settings, token)}`);
          else say(`agent API ${String(record.url)}; the web console is not built (renderer/dist is missing), token in ${settings.tokenFile}`);
          say('Ctrl-C stops the agent (its addresses are handed over first).');
        });
      } else if (record.event === 'log') {
        say(`${String(record.time)} ${String(record.message)}`);
      } else {
        say(line);
      }
    });
  }
  return exit;
}

export async function start(argv: readonly string[]): Promise<number> {
  if (argv.length > 0) return run(process.execPath, [IPFO_BIN, ...argv]);
  const settings = defaultLocalAgentSettings();
  const electron = findElectronBinary();
  const decision = decideStart({
    electronInstalled: electron.installed,
    display: hasDisplay(process.platform, process.env),
    agentAnswers: await agentAnswers(settings.host, settings.port),
    isRoot: process.getuid?.() === 0,
  });
  switch (decision.kind) {
    case 'electron':
      if (!electron.installed) return EXIT.runtime;
      await buildIfNeeded();
      return run(electron.path, [ROOT]);
    case 'show-web-console':
      say(decision.why);
      say(`an agent already answers on ${settings.host}:${settings.port}; web console: ${consoleUrl(settings, await readLocalToken(settings.tokenFile))}`);
      return EXIT.ok;
    case 'start-agent':
      say(decision.why);
      return serveLocalAgent(settings);
    case 'need-root':
      say(decision.why);
      say(`starting the local agent needs root (it registers addresses and sends ARP): sudo npm start`);
      return decision.exitCode;
  }
}

if (require.main === module) {
  start(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      say(`npm start: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = EXIT.runtime;
    },
  );
}
