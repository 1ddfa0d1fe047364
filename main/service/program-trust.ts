// Who may change the code that runs as root. `ipfo agent install` writes a root service that runs this
// installation's runtime and tree, and the console's password prompt runs its launcher (and through
// it the agent) as root from the same tree: if another user - or anything running as the user who
// owns a source checkout - can change one of those files, they run their code as root at the next
// start. So, as for the configuration file (agent-service.ts), every file and directory of the tree,
// the runtime, and every directory above them must belong to root and not be writable by group or
// others (main/fs/trusted-path.ts says why and how links are followed). `.git` is not loaded and is
// skipped. POSIX only (Windows: main/service/windows-acl.ts).
import { lstatSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { checkTrustedPath, UntrustedPathError } from '../fs/trusted-path';

export interface ProgramFiles {
  /** The runtime: node, or the Electron binary. */
  executable: string;
  /** The installation's root: the repository, or <resources>/app.asar. */
  appRoot: string;
}

export interface ProgramTrustOptions {
  /** Who may own the files: root (0) and this uid. Default 0: the code runs as root. */
  uid?: number;
  /** Most problems listed (the walk stops there). Default 5. */
  limit?: number;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Lists who else may change the program (empty: only root can). Never throws for what it finds. */
export function untrustedProgramProblems(files: ProgramFiles, options: ProgramTrustOptions = {}): string[] {
  if (process.platform === 'win32') return [];
  const uid = options.uid ?? 0;
  const limit = options.limit ?? 5;
  const problems: string[] = [];
  const add = (problem: string): boolean => {
    if (problems.length < limit) problems.push(problem);
    return problems.length < limit;
  };
  const checkPath = (path: string, label: string): string | null => {
    try {
      return checkTrustedPath(path, { uid, label }).resolved;
    } catch (error) {
      if (!(error instanceof UntrustedPathError)) add(`${label}: ${(error as Error).message}`);
      else add(error.message.replace(/: whoever can change it.*$/, ''));
      return null;
    }
  };
  checkPath(files.executable, `the runtime ${files.executable}`);
  const root = checkPath(files.appRoot, `the installation ${files.appRoot}`);
  if (root === null) return problems;
  // Electron reads app.asar as a directory: walk the real file system (the archive is one file).
  const noAsar = (process as { noAsar?: boolean }).noAsar;
  (process as { noAsar?: boolean }).noAsar = true;
  try {
    const seen = new Set<string>();
    const walk = (dir: string): boolean => {
      const real = realpathSync(dir);
      if (seen.has(real)) return true;
      seen.add(real);
      for (const name of readdirSync(dir).sort()) {
        if (name === '.git') continue;
        const path = join(dir, name);
        const stats = lstatSync(path);
        if (stats.isSymbolicLink()) {
          // The link (its owner and every directory its target passes through) and what it leads to.
          const target = checkPath(path, path);
          if (target === null) {
            if (problems.length >= limit) return false;
            continue;
          }
          const targetStats = lstatSync(target);
          if (targetStats.isDirectory() && !walk(target)) return false;
          continue;
        }
        if (stats.uid !== 0 && stats.uid !== uid && !add(`${path} belongs to uid ${stats.uid}`)) return false;
        if ((stats.mode & 0o022) !== 0 && !add(`${path} is writable by group or others (mode ${modeText(stats.mode)})`)) return false;
        if (stats.isDirectory() && !walk(path)) return false;
      }
      return true;
    };
    if (lstatSync(root).isDirectory()) walk(root);
  } finally {
    (process as { noAsar?: boolean }).noAsar = noAsar;
  }
  return problems;
}

/** One sentence for a refusal or a warning: what runs as root, who can change it, the fix. */
export function untrustedProgramText(files: ProgramFiles, problems: readonly string[], what: string): string {
  return `${what} would run as root code that others can change (${problems.join('; ')}): install the package (it is root's), or make the installation root's: chown -R root:root ${files.appRoot} && chmod -R go-w ${files.appRoot}`;
}
