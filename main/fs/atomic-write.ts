// Atomic, durable file writes: the one way main/ writes a file that must never be seen half written
// (the file store's state and audit log, the API token, the console's connections, the service's
// unit and configuration).
//
// The new content goes to a temp file in the target's directory, created exclusively (O_EXCL, so
// never through a planted symlink) with the asked mode, and is fsynced. Then it is renamed over the
// target (replaceFileAtomically) or hard-linked to the target's name, which fails when the name
// exists (createFileAtomically: two processes creating the same file agree on one). Last, the
// directory is fsynced so the new entry itself survives a power cut. A reader sees the old file or
// the new one, never a mixture; any failure removes the temp file and leaves the target as it was.
// Errors are Node's own (code, syscall, path), unchanged.
//
// Only a crash can leave a temp file behind. Its name holds TEMP_MARK, so the owner of a directory
// can sweep them (the file store does when it opens).
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** Every temp file's name contains this (`.<name>.tmp-<pid>-<random>`). */
export const TEMP_MARK = '.tmp-';

export interface AtomicWriteOptions {
  /** The file's permission bits, exactly, whatever the umask (the temp file has them from its creation, so it is never more open than asked). */
  mode: number;
  /** Creates missing parent directories with this mode (exactly, like `mode`); without it a missing directory is an error (ENOENT). Existing directories are left alone. */
  directoryMode?: number;
}

/** Replaces `file` (or creates it) with `data`: a crash at any point leaves the old content or the new. */
export async function replaceFileAtomically(file: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<void> {
  const temp = await writeTemp(file, data, options);
  try {
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(file));
}

/**
 * Creates `file` with `data` only if no file has that name: true when this call created it, false
 * (nothing written) when it existed. Needs a file system with hard links.
 */
export async function createFileAtomically(file: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<boolean> {
  const temp = await writeTemp(file, data, options);
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(dirname(file));
  return true;
}

/** fsync of a directory makes renames and creations in it durable (a no-op where unsupported). */
export async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return; // a directory cannot be opened for fsync there
  let handle;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EACCES') throw error;
  } finally {
    await handle?.close();
  }
}

/** The new content in a fresh temp file next to `file`, flushed to disk; removed again on failure. */
async function writeTemp(file: string, data: string | Uint8Array, options: AtomicWriteOptions): Promise<string> {
  const directory = dirname(file);
  if (options.directoryMode !== undefined) await makeDirectory(directory, options.directoryMode);
  const temp = join(directory, `.${basename(file)}${TEMP_MARK}${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await open(temp, 'wx', options.mode);
  try {
    try {
      await handle.chmod(options.mode); // open's mode went through the umask
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  return temp;
}

/** mkdir -p, then the exact mode on each directory this call created (mkdir's mode went through the umask). */
async function makeDirectory(directory: string, mode: number): Promise<void> {
  const first = await mkdir(directory, { recursive: true, mode });
  if (first === undefined) return; // it existed
  const top = resolve(first);
  for (let dir = resolve(directory); ; dir = dirname(dir)) {
    await chmod(dir, mode);
    if (dir === top || dir === dirname(dir)) break;
  }
}
