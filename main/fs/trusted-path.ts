// Who may change a path the agent relies on. The agent runs as root: a store directory, a token file
// or a state directory that another user can write (or replace, through any directory above it, or
// redirect with a symbolic link) lets that user decide what root reads and where root writes - a
// planted `audit.jsonl -> /etc/shadow` made the file store truncate the link's target, a planted token
// file was accepted as the agent's own. So, like sshd's StrictModes and OpenSSH's secure_path(), every
// directory from / down to the path, every symbolic link met on the way (resolved here, step by step),
// and the path itself must belong to root or to the agent's own user and must not be writable by group
// or others. One exception, as in the kernel's protected_symlinks: a directory with the sticky bit
// (/tmp) above the path, where others may create entries but not replace ours.
//
// POSIX only: on Windows the owner and the ACL are checked instead (main/service/windows-acl.ts).
// A path that does not exist yet is trusted up to its first missing component; the caller creates the
// rest itself (mode 0700) and checks again.
import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export class UntrustedPathError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'UntrustedPathError';
  }
}

export interface TrustOptions {
  /** The agent's user: what it relies on may belong to root or to it. Default: this process's uid. */
  uid?: number;
  /** How the path is named in messages, e.g. "--store file:/var/lib/ipfo/store". Default: the path. */
  label?: string;
}

export interface TrustedPath {
  /** The path with every symbolic link resolved (up to the first missing component, then as given). */
  resolved: string;
  /** The last component's lstat, or null when it (or a directory above it) does not exist yet. */
  stats: Stats | null;
}

/** Most symbolic links followed (Linux's own limit is 40). */
const MAX_LINKS = 40;

function mode(stats: Stats): string {
  return (stats.mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * Checks `path` (see the file's comment) and returns where it leads; throws UntrustedPathError naming
 * the first component others control, with the fix. Errors other than a missing component (EACCES on
 * a directory above) are Node's own.
 */
export function checkTrustedPath(path: string, options: TrustOptions = {}): TrustedPath {
  const uid = options.uid ?? process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return { resolved: resolve(path), stats: null };
  const label = options.label ?? path;
  const refuse = (why: string, fix: string): never => {
    throw new UntrustedPathError(path, `${label}: ${why}: whoever can change it decides what the agent (uid ${uid}) reads and writes there; ${fix}`);
  };
  const checkOwner = (component: string, stats: Stats): void => {
    if (stats.uid !== 0 && stats.uid !== uid) {
      refuse(`${component} belongs to uid ${stats.uid}, not to root or the agent's user`, `use a path that only ${uid === 0 ? 'root' : `root or uid ${uid}`} can change, such as one under /var/lib/ipfo`);
    }
  };
  const checkDirectoryOrFile = (component: string, stats: Stats, last: boolean): void => {
    checkOwner(component, stats);
    if ((stats.mode & 0o022) !== 0) {
      // A sticky directory above the path (/tmp): others cannot rename or remove what is not theirs.
      const sticky = stats.isDirectory() && (stats.mode & 0o1000) !== 0 && !last;
      if (!sticky) refuse(`${component} is writable by group or others (mode ${mode(stats)})`, `run chmod go-w ${component}`);
    }
    if (!last && !stats.isDirectory()) refuse(`${component} is not a directory`, 'name a directory');
  };
  let current = '/';
  let stats: Stats = lstatSync('/');
  checkDirectoryOrFile('/', stats, resolve(path) === '/');
  let pending = resolve(path).split('/').filter((part) => part !== '');
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      current = dirname(current);
      continue;
    }
    const next = join(current, name);
    try {
      stats = lstatSync(next);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { resolved: join(next, ...pending), stats: null };
      if (code === 'ENOTDIR') refuse(`${current} is not a directory`, 'name a directory');
      throw error;
    }
    const last = pending.length === 0;
    if (stats.isSymbolicLink()) {
      // Anyone may create a link in a sticky directory: only root's or the agent's own are followed.
      checkOwner(next, stats);
      links += 1;
      if (links > MAX_LINKS) refuse(`${next}: too many symbolic links`, 'name the real path');
      const target = readlinkSync(next);
      if (target.startsWith('/')) current = '/';
      pending = [...target.split('/').filter((part) => part !== ''), ...pending];
      continue;
    }
    checkDirectoryOrFile(next, stats, last);
    current = next;
  }
  return { resolved: current, stats };
}
