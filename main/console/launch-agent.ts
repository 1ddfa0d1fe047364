// The program the password prompt runs as root (see elevation.ts): starts `ipfo agent` in
// single-host mode as a detached background process, waits until it answers, and prints one JSON
// report line with its token (launch-report.ts). If an agent already answers it only reads the
// token. It always exits 0 after a report; the report says what happened.
//
//   <node|electron-as-node> launch-agent.js --node N --store file:/abs/dir --api 127.0.0.1:P --token-file /abs/file
//
// Its arguments came through two shells: they are checked again here by the same rules, in the
// exact order the console builds them, and anything else is refused.
import { spawn } from 'node:child_process';
import { mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { readTokenFile } from '../api/token';
import { validateNodeName } from '../cluster/validate';
import { launcherOptions, pathProblem } from './elevation';
import type { LaunchReport } from './launch-report';
import { agentAnswers } from './local-agent';
import { untrustedProgramProblems, untrustedProgramText } from '../service/program-trust';

export interface LauncherOptions {
  node: string;
  storeDir: string;
  port: number;
  tokenFile: string;
}

export type LauncherArgsParse = { ok: true; options: LauncherOptions } | { ok: false; problem: string };

/** Accepts exactly what launcherOptions() produces, nothing more. */
export function parseLauncherArgs(argv: readonly string[]): LauncherArgsParse {
  const [nodeFlag, node, storeFlag, store, apiFlag, api, tokenFlag, tokenFile, ...rest] = argv;
  if (nodeFlag !== '--node' || storeFlag !== '--store' || apiFlag !== '--api' || tokenFlag !== '--token-file' || rest.length > 0) {
    return { ok: false, problem: 'usage: launch-agent --node N --store file:DIR --api 127.0.0.1:PORT --token-file FILE' };
  }
  if (node === undefined || store === undefined || api === undefined || tokenFile === undefined) return { ok: false, problem: 'missing argument' };
  const nodeName = validateNodeName(node);
  if (!nodeName.ok) return { ok: false, problem: nodeName.message };
  if (!store.startsWith('file:')) return { ok: false, problem: '--store must be file:<absolute directory>' };
  const storeDir = store.slice('file:'.length);
  const apiMatch = /^127\.0\.0\.1:([0-9]{1,5})$/.exec(api);
  const port = Number(apiMatch?.[1]);
  if (apiMatch === null || port < 1 || port > 65535) return { ok: false, problem: '--api must be 127.0.0.1:<port>' };
  for (const [what, path] of [['--store', storeDir], ['--token-file', tokenFile]] as const) {
    const problem = pathProblem('linux', what, path);
    if (problem !== null) return { ok: false, problem };
  }
  const options = { node, storeDir, port, tokenFile };
  // Round trip: the parsed options must print back as exactly the arguments received.
  if (launcherOptions(options).join('\0') !== argv.join('\0')) return { ok: false, problem: 'arguments are not in canonical form' };
  return { ok: true, options };
}

const IPFO_BIN = resolve(__dirname, '..', '..', '..', 'bin', 'ipfo');
const READY_TIMEOUT_MS = 30_000;

function report(value: LaunchReport): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

async function logTail(file: string): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trim().split('\n').slice(-3).join(' | ').slice(-600);
  } catch {
    return '';
  }
}

async function launch(options: LauncherOptions): Promise<LaunchReport> {
  if (process.getuid?.() !== 0) return { outcome: 'failed', detail: 'the launcher must run as root (through the password prompt)' };
  // Checked by the console before the prompt too; again here, right before root starts the agent from the tree.
  const program = { executable: process.execPath, appRoot: resolve(__dirname, '..', '..', '..') };
  const problems = untrustedProgramProblems(program);
  if (problems.length > 0) return { outcome: 'failed', detail: untrustedProgramText(program, problems, 'the agent') };
  if (await agentAnswers('127.0.0.1', options.port)) {
    return { outcome: 'already-running', token: await readTokenFile(options.tokenFile, { requirePrivate: true }) };
  }
  const stateDir = dirname(options.tokenFile);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await mkdir(options.storeDir, { recursive: true, mode: 0o700 });
  const logFile = join(stateDir, 'agent.log');
  const log = await open(logFile, 'a', 0o600);
  // Written by the child's callbacks while the loop below polls.
  const childState = { exited: null as string | null };
  try {
    const child = spawn(process.execPath, [IPFO_BIN, 'agent', ...launcherOptions(options)], {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      // ELECTRON_RUN_AS_NODE (set by the elevated command when the console is Electron) passes on.
      env: process.env,
    });
    child.on('exit', (code, signal) => {
      childState.exited = signal === null ? `exit code ${code ?? '?'}` : `signal ${signal}`;
    });
    child.on('error', (error) => {
      childState.exited = error.message;
    });
    child.unref();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (childState.exited === null && Date.now() < deadline) {
      if (child.pid !== undefined && (await agentAnswers('127.0.0.1', options.port, 500))) {
        const token = await readTokenFile(options.tokenFile, { requirePrivate: true });
        return { outcome: 'started', token, pid: child.pid, logFile };
      }
      await new Promise((done) => setTimeout(done, 200));
    }
    const why = childState.exited ?? `no answer within ${READY_TIMEOUT_MS / 1000} s`;
    return { outcome: 'failed', detail: `the agent did not start (${why}): ${await logTail(logFile)}`.slice(0, 2000) };
  } finally {
    await log.close();
  }
}

async function main(): Promise<void> {
  const parsed = parseLauncherArgs(process.argv.slice(2));
  if (!parsed.ok) {
    report({ outcome: 'failed', detail: parsed.problem });
    return;
  }
  try {
    report(await launch(parsed.options));
  } catch (error) {
    report({ outcome: 'failed', detail: (error instanceof Error ? error.message : String(error)).slice(0, 2000) });
  }
}

if (require.main === module) void main();
