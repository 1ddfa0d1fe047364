// On-disk bookkeeping under /run/ipfo-lab: one record per lab (who owns it,
// which namespaces it has) and one claim file per /24 in use. Both are created
// with O_EXCL, so two test processes can never pick the same lab id or subnet,
// and both name the owning process (PID + start time), so a sweeper can tell a
// lab whose owner died from one that is merely busy.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessRunning, processStartTicks } from './processes';

export const LAB_STATE_DIR = '/run/ipfo-lab';

/** "ipfo" + 6 hex digits of lab id + "-" + role ("sw", "n1", "c1", "r1"). */
export const LAB_NAMESPACE_PATTERN = /^ipfo([0-9a-f]{6})-(sw|[ncr]\d{1,2})$/;

export function labNamespaceName(labId: string, role: string): string {
  return `ipfo${labId}-${role}`;
}

export function labIdOfNamespace(ns: string): string | null {
  return LAB_NAMESPACE_PATTERN.exec(ns)?.[1] ?? null;
}

export interface ProcessIdentity {
  pid: number;
  startTicks: string | null;
}

export interface LabRecord {
  id: string;
  label: string;
  owner: ProcessIdentity;
  /** Third octet of 10.213.<k>.0/24, null until claimed. */
  subnetIndex: number | null;
  /** Every namespace the lab creates, written before the first one exists. */
  namespaces: string[];
  createdAt: string;
}

interface SubnetClaim {
  labId: string;
  owner: ProcessIdentity;
}

export function currentProcessIdentity(): ProcessIdentity {
  return { pid: process.pid, startTicks: processStartTicks(process.pid) };
}

export function isOwnerAlive(owner: ProcessIdentity): boolean {
  return isProcessRunning(owner.pid, owner.startTicks);
}

function ensureStateDir(): void {
  mkdirSync(LAB_STATE_DIR, { recursive: true, mode: 0o755 });
}

function recordPath(id: string): string {
  return join(LAB_STATE_DIR, `${id}.json`);
}

function claimPath(subnetIndex: number): string {
  return join(LAB_STATE_DIR, `subnet-${subnetIndex}.claim`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function parseIdentity(value: unknown): ProcessIdentity | null {
  if (!isRecord(value) || typeof value.pid !== 'number') return null;
  const startTicks = typeof value.startTicks === 'string' ? value.startTicks : null;
  return { pid: value.pid, startTicks };
}

function parseLabRecord(text: string): LabRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.id !== 'string' || !Array.isArray(value.namespaces)) return null;
  const owner = parseIdentity(value.owner);
  if (owner === null) return null;
  return {
    id: value.id,
    label: typeof value.label === 'string' ? value.label : '',
    owner,
    subnetIndex: typeof value.subnetIndex === 'number' ? value.subnetIndex : null,
    namespaces: value.namespaces.filter((ns): ns is string => typeof ns === 'string'),
    createdAt: typeof value.createdAt === 'string' ? value.createdAt : '',
  };
}

function parseClaim(text: string): SubnetClaim | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.labId !== 'string') return null;
  const owner = parseIdentity(value.owner);
  return owner === null ? null : { labId: value.labId, owner };
}

function isExists(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'EEXIST';
}

/** Creates the record exclusively; false if a lab with this id already has one. */
export function createLabRecord(record: LabRecord): boolean {
  ensureStateDir();
  try {
    writeFileSync(recordPath(record.id), JSON.stringify(record, null, 2), { flag: 'wx' });
    return true;
  } catch (error) {
    if (isExists(error)) return false;
    throw error;
  }
}

export function updateLabRecord(record: LabRecord): void {
  const path = recordPath(record.id);
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, JSON.stringify(record, null, 2));
  renameSync(temporary, path);
}

export function removeLabRecord(id: string): void {
  rmSync(recordPath(id), { force: true });
}

export function readLabRecords(): LabRecord[] {
  let names: string[];
  try {
    names = readdirSync(LAB_STATE_DIR);
  } catch {
    return [];
  }
  const records: LabRecord[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    try {
      const record = parseLabRecord(readFileSync(join(LAB_STATE_DIR, name), 'utf8'));
      if (record !== null) records.push(record);
    } catch {
      // Removed by a concurrent sweeper between readdir and read: nothing to do.
    }
  }
  return records;
}

/**
 * Claims the first free /24 index, starting at `preferred` and wrapping within
 * [1, 254]. Returns the index, or throws if every index is taken.
 */
export function claimSubnet(labId: string, preferred: number, owner: ProcessIdentity): number {
  ensureStateDir();
  for (let step = 0; step < 254; step += 1) {
    const index = ((preferred - 1 + step) % 254) + 1;
    try {
      writeFileSync(claimPath(index), JSON.stringify({ labId, owner } satisfies SubnetClaim), { flag: 'wx' });
      return index;
    } catch (error) {
      if (!isExists(error)) throw error;
    }
  }
  throw new Error(`no free 10.213.<k>.0/24 left: clear stale labs (node build/test/lab/sweep.js) under ${LAB_STATE_DIR}`);
}

/** Releases a claim, but only if it is still ours (never a later lab's). */
export function releaseSubnet(subnetIndex: number, labId: string): void {
  try {
    const claim = parseClaim(readFileSync(claimPath(subnetIndex), 'utf8'));
    if (claim === null || claim.labId === labId) rmSync(claimPath(subnetIndex), { force: true });
  } catch {
    // Already released.
  }
}

/** A claim is written right after its O_EXCL create; an unreadable one younger than this is still being written. */
const UNREADABLE_CLAIM_MAX_AGE_MS = 60_000;

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Removes claim files whose owner is dead, except those of labs in
 * `keptLabIds` (labs whose record is still there because their teardown failed:
 * their namespaces may still exist, so their /24 stays taken).
 */
export function removeOrphanClaims(keptLabIds: ReadonlySet<string>): number[] {
  let names: string[];
  try {
    names = readdirSync(LAB_STATE_DIR);
  } catch {
    return [];
  }
  const removed: number[] = [];
  for (const name of names) {
    const match = /^subnet-(\d+)\.claim$/.exec(name);
    if (match?.[1] === undefined) continue;
    const index = Number(match[1]);
    let claim: SubnetClaim | null;
    try {
      claim = parseClaim(readFileSync(join(LAB_STATE_DIR, name), 'utf8'));
    } catch {
      continue;
    }
    const path = join(LAB_STATE_DIR, name);
    if (claim === null && ageMs(path) < UNREADABLE_CLAIM_MAX_AGE_MS) continue;
    if (claim !== null && (keptLabIds.has(claim.labId) || isOwnerAlive(claim.owner))) continue;
    rmSync(path, { force: true });
    removed.push(index);
  }
  return removed;
}
