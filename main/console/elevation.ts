// The command that @vscode/sudo-prompt runs as root to start the local agent. Pure: no I/O.
//
// sudo-prompt takes ONE command string, and on Linux that string is parsed by a shell TWICE:
//   /bin/sh -c 'cd "<cwd>"; /usr/bin/pkexec /bin/bash -c "echo SUDOPROMPT; <command, only " escaped>"'
// The outer shell expands $(...), backticks, $VAR and backslashes inside those double quotes
// before pkexec even runs, and bash then parses the result again. No escaping scheme is simple
// enough to trust across two shells, so this module escapes NOTHING: every part is checked against
// a character set that means the same in both parses (no quotes, no $, no backtick, no backslash,
// no control characters or line separators), then wrapped in single quotes, which keep spaces and
// other punctuation literal in the inner bash and are themselves literal inside the outer double
// quotes. Anything else is refused with the reason, never "cleaned up".
//
// What runs is fixed: an absolute path to our launcher script (launch-agent.ts) with validated
// options; the executable is Node or Electron-as-Node (pkexec clears the environment, so
// ELECTRON_RUN_AS_NODE=1 goes through /usr/bin/env as an argument, not as an environment option).
import { DEFAULT_API_HOST } from '../../preload/contract/protocol';
import { validateNodeName } from '../cluster/validate';

export type ElevationPlatform = 'linux' | 'darwin' | 'win32';

export interface ElevatedAgentLaunch {
  platform: ElevationPlatform;
  /** Absolute path of the program that runs the launcher: node, or the Electron binary. */
  executable: string;
  /** `executable` is Electron: run it as plain Node (ELECTRON_RUN_AS_NODE=1). */
  runAsNode: boolean;
  /** Absolute path of build/main/console/launch-agent.js. */
  launcher: string;
  /** The agent's node name. */
  node: string;
  /** Absolute directory of the single-host file store. */
  storeDir: string;
  /** Loopback port of the agent API. */
  port: number;
  /** Absolute path of the agent's token file. */
  tokenFile: string;
}

export interface ElevatedCommand {
  /** The string for sudo-prompt's exec(). */
  command: string;
  /** The same command as an argument vector (what the launcher will see), for logs and tests. */
  argv: string[];
  /** sudo-prompt's `env` option (Windows only: there the elevated process inherits it). */
  env: Record<string, string> | undefined;
}

export type ElevationBuild = { ok: true; elevated: ElevatedCommand } | { ok: false; problem: string };

/** The name sudo-prompt shows in the password dialog (letters, digits and spaces only). */
export const ELEVATION_PROMPT_NAME = 'IP Failover Console';

/**
 * Characters that are not literal in a double-quoted outer shell word or in a single-quoted inner
 * one, or that end a line: quotes, $, backtick, backslash, `!` (history expansion in interactive
 * bash), C0/C1 controls, DEL, U+2028/2029. Spaces and other Unicode stay allowed (an installation
 * under "/opt/IP Failover Console" or "/home/jörg" must work).
 */
const POSIX_UNSAFE = /['"$`\\!\p{Cc}\u2028\u2029]/u;
/** cmd.exe expands %VAR% and !VAR! even inside double quotes; a quote would end the word. */
const WINDOWS_UNSAFE = /["%!^\p{Cc}\u2028\u2029]/u;
const MAX_PART_LENGTH = 1024;

function unsafeCharacter(platform: ElevationPlatform, part: string): string | null {
  const match = (platform === 'win32' ? WINDOWS_UNSAFE : POSIX_UNSAFE).exec(part);
  if (match === null) return null;
  const char = match[0];
  const code = char.codePointAt(0) ?? 0;
  return code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029
    ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
    : JSON.stringify(char);
}

/** Why `part` cannot go into the elevated command on `platform`, or null. */
export function unsafePartProblem(platform: ElevationPlatform, what: string, part: string): string | null {
  if (part === '') return `${what} is empty`;
  if (part.length > MAX_PART_LENGTH) return `${what} is longer than ${MAX_PART_LENGTH} characters`;
  const bad = unsafeCharacter(platform, part);
  return bad === null ? null : `${what} contains ${bad}, which the elevation prompt's shell would not take literally`;
}

function isAbsolute(platform: ElevationPlatform, path: string): boolean {
  return platform === 'win32' ? /^[A-Za-z]:\\/.test(path) : path.startsWith('/');
}

/** Absolute, without "." or ".." segments or doubled separators: a path means what it says. */
export function pathProblem(platform: ElevationPlatform, what: string, path: string): string | null {
  const unsafe = unsafePartProblem(platform, what, path);
  if (unsafe !== null) return unsafe;
  if (!isAbsolute(platform, path)) return `${what} must be an absolute path, got ${JSON.stringify(path)}`;
  const separator = platform === 'win32' ? /\\/ : /\//;
  const segments = path.split(separator).slice(1);
  const last = segments.length - 1;
  if (segments.some((segment, index) => segment === '.' || segment === '..' || (segment === '' && index !== last))) {
    return `${what} must not contain ".", ".." or empty segments, got ${JSON.stringify(path)}`;
  }
  return null;
}

function quotePart(platform: ElevationPlatform, part: string): string {
  return platform === 'win32' ? `"${part}"` : `'${part}'`;
}

/** The agent's options in the launcher's argument vector (also what launch-agent.ts parses). */
export function launcherOptions(launch: Pick<ElevatedAgentLaunch, 'node' | 'storeDir' | 'port' | 'tokenFile'>): string[] {
  return ['--node', launch.node, '--store', `file:${launch.storeDir}`, '--api', `${DEFAULT_API_HOST}:${launch.port}`, '--token-file', launch.tokenFile];
}

/** Builds the elevated command, or says which input it refuses and why. */
export function buildElevatedCommand(launch: ElevatedAgentLaunch): ElevationBuild {
  const { platform } = launch;
  const problems = [
    pathProblem(platform, 'the executable', launch.executable),
    pathProblem(platform, 'the launcher script', launch.launcher),
    pathProblem(platform, 'the store directory', launch.storeDir),
    pathProblem(platform, 'the token file', launch.tokenFile),
  ];
  const node = validateNodeName(launch.node);
  if (!node.ok) problems.push(node.message);
  if (!Number.isInteger(launch.port) || launch.port < 1 || launch.port > 65535) problems.push(`the API port must be 1..65535, got ${String(launch.port)}`);
  const problem = problems.find((entry) => entry !== null);
  if (problem !== undefined && problem !== null) return { ok: false, problem };

  const program = [launch.executable, launch.launcher, ...launcherOptions(launch)];
  // Options are fixed words or validated above; check them all again so no future option slips by.
  for (const part of program) {
    const unsafe = unsafePartProblem(platform, 'an argument', part);
    if (unsafe !== null) return { ok: false, problem: unsafe };
  }
  const posixEnv = launch.runAsNode && platform !== 'win32' ? ['/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1'] : [];
  const argv = [...posixEnv, ...program];
  return {
    ok: true,
    elevated: {
      command: argv.map((part) => quotePart(platform, part)).join(' '),
      argv,
      env: launch.runAsNode && platform === 'win32' ? { ELECTRON_RUN_AS_NODE: '1' } : undefined,
    },
  };
}

/**
 * sudo-prompt also puts the current directory into its shell line (`cd "<cwd>"`, only `"`
 * escaped): a directory named `$(...)` would run as the user before the prompt. The caller moves
 * to a safe directory first when this says no.
 */
export function isSafeWorkingDirectory(platform: ElevationPlatform, cwd: string): boolean {
  return unsafePartProblem(platform, 'the working directory', cwd) === null;
}

/** sudo-prompt's error for a declined or dismissed password prompt (pkexec, kdesudo, macOS, Windows UAC). */
export const PROMPT_DECLINED_MESSAGE = 'User did not grant permission.';

export type ElevationFailure = { kind: 'cancelled' } | { kind: 'no-prompt-program'; detail: string } | { kind: 'failed'; detail: string };

/** Sorts a sudo-prompt error: a declined prompt is an answer, not a failure. */
export function classifyElevationError(error: Error): ElevationFailure {
  if (error.message === PROMPT_DECLINED_MESSAGE) return { kind: 'cancelled' };
  if (/Unable to find pkexec or kdesudo/i.test(error.message) || /No authentication agent found/i.test(error.message)) {
    return { kind: 'no-prompt-program', detail: error.message };
  }
  return { kind: 'failed', detail: error.message };
}
