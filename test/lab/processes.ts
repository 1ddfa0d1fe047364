// Process bookkeeping for the lab: which PIDs we started, whether a PID is
// still the process we think it is, and how to stop them (SIGTERM, then
// SIGKILL after a grace period). Kills are always by PID (or by the process
// group of a child we started detached, while that child is still alive), so
// nothing outside the lab is ever signalled.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const DEFAULT_GRACE_MS = 1500;

interface ProcStat {
  state: string;
  startTicks: string;
}

function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTicks = fields[19]; // field 22 of proc(5): start time in clock ticks since boot
  if (state === undefined || startTicks === undefined) return null;
  return { state, startTicks };
}

/** Start time of a process, so a recorded PID can be told apart from a reused one. */
export function processStartTicks(pid: number): string | null {
  return readProcStat(pid)?.startTicks ?? null;
}

/** True while `pid` runs (a zombie counts as gone: it holds no namespace and does no work). */
export function isProcessRunning(pid: number, expectedStartTicks?: string | null): boolean {
  const stat = readProcStat(pid);
  if (stat === null || stat.state === 'Z' || stat.state === 'X') return false;
  return expectedStartTicks == null || stat.startTicks === expectedStartTicks;
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocking sleep for the synchronous teardown paths ('exit' hook, signals). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Signals a child we spawned detached (it leads its own process group, so its
 * helpers get the signal too). Once the leader has exited we no longer use the
 * group id: stragglers are found through the lab's namespaces instead.
 */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined || hasExited(child)) return;
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    signalPid(pid, signal);
  }
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child) || child.pid === undefined) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, timeoutMs);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** Stops one child: SIGTERM to its group, SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = DEFAULT_GRACE_MS): Promise<void> {
  if (hasExited(child) || child.pid === undefined) return;
  signalChild(child, 'SIGTERM');
  if (await waitForExit(child, graceMs)) return;
  signalChild(child, 'SIGKILL');
  await waitForExit(child, 5000);
}

/** SIGTERM then SIGKILL for PIDs that are not our children (found in a namespace). */
export async function stopPids(pids: readonly number[], graceMs = DEFAULT_GRACE_MS): Promise<void> {
  const targets = pids.map((pid) => ({ pid, start: processStartTicks(pid) })).filter((t) => t.start !== null);
  for (const t of targets) signalPid(t.pid, 'SIGTERM');
  const alive = () => targets.filter((t) => isProcessRunning(t.pid, t.start));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const t of alive()) signalPid(t.pid, 'SIGKILL');
  const killDeadline = Date.now() + 2000;
  while (alive().length > 0 && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 20));
}

export function stopPidsSync(pids: readonly number[], graceMs: number): void {
  const targets = pids.map((pid) => ({ pid, start: processStartTicks(pid) })).filter((t) => t.start !== null);
  for (const t of targets) signalPid(t.pid, 'SIGTERM');
  const alive = () => targets.filter((t) => isProcessRunning(t.pid, t.start));
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) sleepSync(10);
  for (const t of alive()) signalPid(t.pid, 'SIGKILL');
}

/** The children one lab started; forgets each as soon as it exits. */
export class ProcessTracker {
  private readonly children = new Set<ChildProcess>();

  track(child: ChildProcess): void {
    if (child.pid === undefined || hasExited(child)) return;
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  pids(): number[] {
    return [...this.children].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  async stopAll(graceMs = DEFAULT_GRACE_MS): Promise<void> {
    await Promise.all([...this.children].map((child) => stopChild(child, graceMs)));
  }

  /**
   * For the 'exit' hook and signal handlers, where no event loop turn is left:
   * children that exit become zombies we cannot reap here, so "gone" is read
   * from /proc instead of waiting for 'exit' events.
   */
  stopAllSync(graceMs: number): void {
    const live = [...this.children].filter((child) => !hasExited(child));
    for (const child of live) signalChild(child, 'SIGTERM');
    const running = () => live.filter((child) => child.pid !== undefined && isProcessRunning(child.pid));
    const deadline = Date.now() + graceMs;
    while (running().length > 0 && Date.now() < deadline) sleepSync(10);
    for (const child of running()) signalChild(child, 'SIGKILL');
  }
}
