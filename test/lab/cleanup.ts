// Two safety nets behind lab.destroy():
//  1. a process-wide registry of live labs, torn down synchronously when this
//     process exits, is interrupted (SIGINT/SIGTERM/SIGHUP) or dies of an
//     uncaught exception;
//  2. a sweeper that removes labs whose owning process is gone (SIGKILL,
//     OOM, a crashed runner), found through the records under /run/ipfo-lab.
import {
  isOwnerAlive,
  labIdOfNamespace,
  readLabRecords,
  releaseSubnet,
  removeLabRecord,
  removeOrphanClaims,
  type LabRecord,
} from './lab-state';
import { deleteNamespace, listNamespaces, namespacePids } from './netns';
import { stopPids } from './processes';

export interface TeardownTarget {
  readonly id: string;
  /** Best-effort synchronous teardown: no event loop turn is guaranteed here. */
  destroySync(reason: string): void;
}

const liveLabs = new Set<TeardownTarget>();
const TERMINATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooksInstalled = false;

function destroyAllSync(reason: string): void {
  for (const lab of [...liveLabs]) {
    try {
      lab.destroySync(reason);
    } catch (error) {
      process.stderr.write(`ipfo lab ${lab.id}: teardown on ${reason} failed: ${String(error)}\n`);
    }
    liveLabs.delete(lab);
  }
  uninstallHooks();
}

function onExit(): void {
  destroyAllSync('process exit');
}

function onSignal(signal: NodeJS.Signals): void {
  destroyAllSync(`signal ${signal}`);
  // Listening for a signal cancels its default action. If nobody else handles
  // it, restore the default (our hooks are removed by now) and re-raise, so the
  // process still dies of the signal with the usual exit status.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * 'uncaughtExceptionMonitor' rather than 'uncaughtException': a plain listener
 * would stop Node from crashing. The process only dies (without emitting
 * 'exit') when nobody handles the exception, so that is when we clean up;
 * with a handler (node:test installs one) the labs stay and are destroyed by
 * their own finally blocks or at 'exit'.
 */
function onUncaughtException(): void {
  if (process.listenerCount('uncaughtException') === 0) destroyAllSync('uncaught exception');
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaughtException);
  for (const signal of TERMINATING_SIGNALS) process.on(signal, onSignal);
}

// Hooks exist only while a lab is alive, so a process without labs keeps
// Node's default signal behaviour.
function uninstallHooks(): void {
  if (!hooksInstalled || liveLabs.size > 0) return;
  hooksInstalled = false;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaughtException);
  for (const signal of TERMINATING_SIGNALS) process.off(signal, onSignal);
}

export function registerLab(lab: TeardownTarget): void {
  liveLabs.add(lab);
  installHooks();
}

export function unregisterLab(lab: TeardownTarget): void {
  liveLabs.delete(lab);
  uninstallHooks();
}

export function liveLabCount(): number {
  return liveLabs.size;
}

export interface SweptLab {
  id: string;
  label: string;
  ownerPid: number;
  namespaces: string[];
  killedPids: number[];
  error?: string;
}

export interface SweepReport {
  /** Labs whose owner was gone: their processes were killed and namespaces deleted. */
  removed: SweptLab[];
  /** Labs whose owner still runs: left alone. */
  live: string[];
  /** Claim files of /24s released because their owner was gone. */
  releasedSubnets: number[];
  /** Lab-shaped namespaces with no record at all: reported, never deleted (they may not be ours). */
  unknownNamespaces: string[];
}

const SWEEP_GRACE_MS = 500;

/** Switch namespace last: host namespaces first take their veths (and both ends) with them. */
function teardownOrder(namespaces: readonly string[]): string[] {
  return [...namespaces.filter((ns) => !ns.endsWith('-sw')), ...namespaces.filter((ns) => ns.endsWith('-sw'))];
}

async function sweepLab(record: LabRecord, existing: readonly string[], dryRun: boolean): Promise<SweptLab> {
  const ownPrefix = `ipfo${record.id}-`;
  const namespaces = [...new Set([...record.namespaces, ...existing.filter((ns) => ns.startsWith(ownPrefix))])].filter((ns) =>
    existing.includes(ns),
  );
  const pids = [...new Set((await Promise.all(namespaces.map(namespacePids))).flat())];
  const swept: SweptLab = { id: record.id, label: record.label, ownerPid: record.owner.pid, namespaces, killedPids: pids };
  if (dryRun) return swept;
  try {
    // Everything running in the lab's namespaces was started for the dead lab.
    await stopPids(pids, SWEEP_GRACE_MS);
    for (const ns of teardownOrder(namespaces)) await deleteNamespace(ns);
    if (record.subnetIndex !== null) releaseSubnet(record.subnetIndex, record.id);
    removeLabRecord(record.id);
  } catch (error) {
    swept.error = String(error);
  }
  return swept;
}

/** Removes every lab whose owning process is gone. Safe to run while other labs are alive. */
export async function sweepStaleLabs(options: { dryRun?: boolean } = {}): Promise<SweepReport> {
  const dryRun = options.dryRun ?? false;
  const existing = listNamespaces();
  const report: SweepReport = { removed: [], live: [], releasedSubnets: [], unknownNamespaces: [] };
  const records = readLabRecords();
  const kept = new Set<string>();
  for (const record of records) {
    if (isOwnerAlive(record.owner)) {
      report.live.push(record.id);
      kept.add(record.id);
      continue;
    }
    const swept = await sweepLab(record, existing, dryRun);
    if (swept.error !== undefined || dryRun) kept.add(record.id);
    report.removed.push(swept);
  }
  if (!dryRun) report.releasedSubnets = removeOrphanClaims(kept);
  const recordedIds = new Set(records.map((record) => record.id));
  report.unknownNamespaces = existing.filter((ns) => {
    const id = labIdOfNamespace(ns);
    return id !== null && !recordedIds.has(id);
  });
  return report;
}
