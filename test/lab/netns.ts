// Thin wrappers around iproute2 for the lab: every call is an argument array
// (no shell), and every destructive call tolerates "already gone" so teardown
// can run twice, or race with another sweeper, without failing.
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { isProcessRunning, signalPid, sleepSync } from './processes';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly result: CommandResult) {
    super(`${argv.join(' ')} failed (code ${String(result.code)}${result.signal ? `, ${result.signal}` : ''}): ${result.stderr.trim()}`);
    this.name = 'CommandError';
  }
}

const COMMAND_TIMEOUT_MS = 15_000;

// Commands still running. A process that is torn down by a signal must stop
// these before deleting namespaces: an `ip netns add` finishing after the
// teardown would leave a namespace that no record describes.
const inFlight = new Set<ChildProcess>();

/** SIGKILLs every command this module has running and waits (bounded) until they are gone. */
export function abortCommandsSync(timeoutMs = 1000): void {
  const pids = [...inFlight].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  for (const pid of pids) signalPid(pid, 'SIGKILL');
  const deadline = Date.now() + timeoutMs;
  while (pids.some((pid) => isProcessRunning(pid)) && Date.now() < deadline) sleepSync(5);
}

export function runCommand(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(file, [...args], { timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      inFlight.delete(child);
      const failure = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      const code = failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
      const signal = failure?.signal ?? null;
      // A spawn failure (ENOENT) has no exit code: surface it through stderr.
      const spawnError = failure !== null && typeof failure.code === 'string' ? `${failure.code}: ${failure.message}` : '';
      resolve({ code, signal, stdout, stderr: stderr + spawnError });
    });
    inFlight.add(child);
  });
}

export function runCommandSync(file: string, args: readonly string[]): CommandResult {
  const result = spawnSync(file, [...args], { encoding: 'utf8', timeout: COMMAND_TIMEOUT_MS });
  const spawnError = result.error ? String(result.error) : '';
  return { code: result.status, signal: result.signal, stdout: result.stdout ?? '', stderr: (result.stderr ?? '') + spawnError };
}

/** Runs `ip <args>` and returns stdout; throws CommandError on failure. */
export async function ip(args: readonly string[]): Promise<string> {
  const result = await runCommand('ip', args);
  if (result.code !== 0) throw new CommandError(['ip', ...args], result);
  return result.stdout;
}

export async function bridgeCommand(args: readonly string[]): Promise<string> {
  const result = await runCommand('bridge', args);
  if (result.code !== 0) throw new CommandError(['bridge', ...args], result);
  return result.stdout;
}

/** Writes sysctls inside a namespace in one process (`sysctl -w a=1 b=2`). */
export async function setSysctls(ns: string, settings: Readonly<Record<string, string | number>>): Promise<void> {
  const assignments = Object.entries(settings).map(([key, value]) => `${key}=${String(value)}`);
  if (assignments.length === 0) return;
  await ip(['netns', 'exec', ns, 'sysctl', '-q', '-w', ...assignments]);
}

export async function readSysctl(ns: string, key: string): Promise<string> {
  return (await ip(['netns', 'exec', ns, 'sysctl', '-n', key])).trim();
}

const NETNS_DIR = '/run/netns';

/** Named namespaces, read the way `ip netns list` does (the bind-mount files). */
export function listNamespaces(): string[] {
  try {
    return readdirSync(NETNS_DIR);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

export function namespaceExists(ns: string): boolean {
  return listNamespaces().includes(ns);
}

function parsePids(stdout: string): number[] {
  return stdout
    .split(/\s+/)
    .filter((word) => /^\d+$/.test(word))
    .map(Number);
}

/** PIDs of processes whose network namespace is `ns` (empty if `ns` is gone). */
export async function namespacePids(ns: string): Promise<number[]> {
  if (!namespaceExists(ns)) return [];
  const result = await runCommand('ip', ['netns', 'pids', ns]);
  return result.code === 0 ? parsePids(result.stdout) : [];
}

export function namespacePidsSync(ns: string): number[] {
  if (!namespaceExists(ns)) return [];
  const result = runCommandSync('ip', ['netns', 'pids', ns]);
  return result.code === 0 ? parsePids(result.stdout) : [];
}

/** Deletes a named namespace; "already gone" is success. Returns whether it existed. */
export async function deleteNamespace(ns: string): Promise<boolean> {
  if (!namespaceExists(ns)) return false;
  const result = await runCommand('ip', ['netns', 'delete', ns]);
  if (result.code !== 0 && namespaceExists(ns)) throw new CommandError(['ip', 'netns', 'delete', ns], result);
  return true;
}

export function deleteNamespaceSync(ns: string): boolean {
  if (!namespaceExists(ns)) return false;
  runCommandSync('ip', ['netns', 'delete', ns]);
  return true;
}
