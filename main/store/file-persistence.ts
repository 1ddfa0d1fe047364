// The file store on disk, built to survive kill -9 (and power loss) at any instant:
//  - state.json is replaced atomically (main/fs/atomic-write.ts): written to a temp file in the same
//    directory, fsynced, renamed over the old one, then the directory is fsynced so the rename itself
//    is durable. A reader sees the old file or the new one, never a mixture.
//  - audit.jsonl is append-only, one JSON line per entry, fdatasynced before the append is
//    acknowledged. A kill can leave only a torn last line (never acknowledged): the loader cuts it
//    off. When the file grows past the retention (plus some slack: file-store.ts) it is rewritten
//    atomically like state.json.
//  - a lock file names the process using the directory; a lock whose process is gone is taken over.
// Every file here is opened without following a symbolic link (O_NOFOLLOW; new ones with O_EXCL): the
// directory is checked to be root's or the agent's own (file-store.ts), and even so a link planted in
// it must not make the agent read, append to or truncate another file.
import { closeSync, constants, openSync, readFileSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_MARK, replaceFileAtomically, syncDirectory } from '../fs/atomic-write';
import { checkValue, parseJson } from './codec';
import type { AuditLine, DiskState } from './file-state';
import { StoreError } from './store';

export const STATE_FILE = 'state.json';
export const AUDIT_FILE = 'audit.jsonl';
export const LOCK_FILE = 'lock';

/** Replaces `path` with `text` (mode 0600) so that any crash leaves either the old or the new content. */
export function writeFileAtomic(path: string, text: string): Promise<void> {
  return replaceFileAtomically(path, text, { mode: 0o600 });
}

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

/** The text of `path`, a regular file, not through a symbolic link (ELOOP); null when it does not exist. */
async function readOwnFile(path: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new StoreError('corrupt', `${path} is a symbolic link: the store's files must be its own (remove the link)`, { cause: error });
    throw error;
  }
  try {
    if (!(await handle.stat()).isFile()) throw new StoreError('corrupt', `${path} is not a regular file`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Temp files of writes that never reached their rename (the process died first). */
export function removeStaleTemps(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (name.includes(TEMP_MARK)) unlinkSync(join(dir, name));
  }
}

export async function readStateFile(dir: string): Promise<DiskState | null> {
  const path = join(dir, STATE_FILE);
  const text = await readOwnFile(path);
  if (text === null) return null;
  const value = parseJson(path, text);
  if (typeof value !== 'object' || value === null || typeof (value as DiskState).revision !== 'number') {
    throw new StoreError('corrupt', `${path}: not a state file`);
  }
  return value as DiskState;
}

export function formatAuditLines(lines: readonly AuditLine[]): string {
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}

/** Parses the audit log; returns the intact lines and the byte length they occupy. */
export function parseAuditLog(text: string, path: string): { lines: AuditLine[]; intactBytes: number } {
  const lines: AuditLine[] = [];
  let offset = 0;
  while (offset < text.length) {
    const end = text.indexOf('\n', offset);
    if (end < 0) break; // torn last line: never acknowledged
    const raw = text.slice(offset, end);
    let line: AuditLine;
    try {
      const parsed = JSON.parse(raw) as { revision?: unknown; entry?: unknown };
      if (typeof parsed.revision !== 'number') throw new Error('no revision');
      line = { revision: parsed.revision, entry: checkValue('audit', `${path} line ${lines.length + 1}`, parsed.entry) };
    } catch {
      break; // garbage after a crash (power loss can leave a zero-filled tail): cut here
    }
    // A failed flush may append a line again on retry: the first copy counts.
    const previous = lines[lines.length - 1];
    if (previous === undefined || line.entry.seq > previous.entry.seq) lines.push(line);
    offset = end + 1;
  }
  return { lines, intactBytes: Buffer.byteLength(text.slice(0, offset)) };
}

export class AuditLog {
  private constructor(
    private readonly path: string,
    private linesOnDisk: number,
    /** Bytes of intact lines: a failed append is cut back to this before anything else is written. */
    private intactBytes: number,
  ) {}

  /** Reads the log, cutting off a torn tail, and opens it for appending. */
  static async open(dir: string): Promise<{ log: AuditLog; lines: AuditLine[] }> {
    const path = join(dir, AUDIT_FILE);
    const text = (await readOwnFile(path)) ?? '';
    const { lines, intactBytes } = parseAuditLog(text, path);
    if (intactBytes < Buffer.byteLength(text)) await truncateDurably(path, intactBytes);
    return { log: new AuditLog(path, lines.length, intactBytes), lines };
  }

  get lineCount(): number {
    return this.linesOnDisk;
  }

  async append(lines: readonly AuditLine[]): Promise<void> {
    if (lines.length === 0) return;
    const text = formatAuditLines(lines);
    try {
      const handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW, 0o600);
      try {
        await handle.appendFile(text);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      // A new file's directory entry must be durable too.
      if (this.intactBytes === 0) await syncDirectory(join(this.path, '..'));
    } catch (error) {
      // Part of the text may be on disk: cut it, so a retry does not glue lines to a torn one.
      await truncateDurably(this.path, this.intactBytes).catch(() => undefined);
      throw error;
    }
    this.intactBytes += Buffer.byteLength(text);
    this.linesOnDisk += lines.length;
  }

  /** Replaces the log with the retained lines (atomically). */
  async rewrite(lines: readonly AuditLine[]): Promise<void> {
    const text = formatAuditLines(lines);
    await writeFileAtomic(this.path, text);
    this.intactBytes = Buffer.byteLength(text);
    this.linesOnDisk = lines.length;
  }
}

async function truncateDurably(path: string, bytes: number): Promise<void> {
  const handle = await open(path, constants.O_RDWR | NOFOLLOW);
  try {
    if (!(await handle.stat()).isFile()) throw new StoreError('corrupt', `${path} is not a regular file`);
    await handle.truncate(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface LockOwner {
  pid: number;
  /** Process start time (Linux /proc), so a reused PID is not mistaken for the owner. */
  start: string | null;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isOwnerAlive(owner: LockOwner): boolean {
  if (owner.start !== null) return processStart(owner.pid) === owner.start;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLockOwner(path: string): LockOwner | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0));
    let text: string;
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
    const owner = JSON.parse(text) as Partial<LockOwner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, start: typeof owner.start === 'string' ? owner.start : null } : null;
  } catch {
    return null; // unreadable or half-written by a process that died: stale
  }
}

/**
 * Takes the directory for this process; StoreError 'locked' while another live process has it.
 * Returns the release function.
 */
export function lockDirectory(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, start: processStart(process.pid) };
  for (let attempt = 0; attempt < 5; attempt += 1) {
    let fd: number;
    try {
      fd = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readLockOwner(path);
      if (owner !== null && owner.pid !== process.pid && isOwnerAlive(owner)) {
        throw new StoreError('locked', `${dir} is in use by process ${owner.pid}`);
      }
      unlinkSync(path);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    return () => {
      const owner = readLockOwner(path);
      if (owner !== null && owner.pid === me.pid && owner.start === me.start) unlinkSync(path);
    };
  }
  throw new StoreError('locked', `${dir}: could not take the lock file`);
}
