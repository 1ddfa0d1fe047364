// Where a program comes from on this Debian system: resolve it (PATH or absolute), follow its symlinks,
// ask dpkg which packages own each step (usrmerge: /bin/X is owned as /bin/X, found as /usr/bin/X), and
// which packages every Debian system has (Essential: yes, or Priority: required).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';

/** Root's PATH plus the sbin directories, which a non-root PATH may lack (keepalived, arpwatch live there). */
const SEARCH_PATH = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'].filter((dir) => dir !== '');

export const DPKG_QUERY = '/usr/bin/dpkg-query';

export function hasDpkg(): boolean {
  return existsSync(DPKG_QUERY);
}

/** The absolute path a program name runs, or null. */
export function resolveProgram(program: string): string | null {
  const candidates = isAbsolute(program) ? [program] : [...new Set(SEARCH_PATH)].map((dir) => join(dir, program));
  return candidates.find((candidate) => isExecutable(candidate)) ?? null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return !lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The path and every symlink hop after it, each with its usrmerge twin (/usr/bin/X and /bin/X). */
export function symlinkChain(path: string): string[] {
  const chain: string[] = [];
  let current = path;
  for (let hop = 0; hop < 40 && !chain.includes(current); hop++) {
    chain.push(current);
    let target: string;
    try {
      target = readlinkSync(current);
    } catch {
      break;
    }
    current = resolve(dirname(current), target);
  }
  return [...new Set(chain.flatMap((step) => [step, usrmergeTwin(step)].filter((p): p is string => p !== null)))];
}

function usrmergeTwin(path: string): string | null {
  const match = /^\/(usr\/)?(s?bin|lib|lib64)\/(.+)$/.exec(path);
  if (match === null) return null;
  return match[1] === undefined ? `/usr/${match[2]}/${match[3]}` : `/${match[2]}/${match[3]}`;
}

/** Parses `dpkg -S` output: "pkg1, pkg2: /path" lines (diversion lines skipped) into path -> packages. */
export function parseDpkgSearch(stdout: string): Map<string, string[]> {
  const owners = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    if (line.startsWith('diversion by ')) continue;
    const match = /^(.+?): (\/.*)$/.exec(line);
    if (match === null) continue;
    const packages = match[1]!.split(',').map((name) => name.trim().replace(/:[a-z0-9]+$/, ''));
    owners.set(match[2]!, [...(owners.get(match[2]!) ?? []), ...packages]);
  }
  return owners;
}

/** path -> owning packages, for every path dpkg knows (one dpkg-query call; unknown paths are simply absent). */
export function dpkgOwners(paths: readonly string[]): Map<string, string[]> {
  if (paths.length === 0) return new Map();
  // Exit status 1 when some path is owned by no package: expected for alternatives (/usr/bin/cc).
  const result = spawnSync(DPKG_QUERY, ['--search', ...paths], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error !== undefined) throw result.error;
  return parseDpkgSearch(result.stdout);
}

/** Packages every Debian system has: Essential: yes, or Priority: required (asked of dpkg, not hard-coded). */
export function basePackages(packages: readonly string[]): Set<string> {
  if (packages.length === 0) return new Set();
  const result = spawnSync(DPKG_QUERY, ['--show', '--showformat=${Package} ${Priority} ${Essential}\\n', ...packages], { encoding: 'utf8' });
  const base = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    const [name, priority, essential] = line.split(' ');
    if (name !== undefined && (priority === 'required' || essential === 'yes')) base.add(name);
  }
  return base;
}

/** The `packages=(…)` array of scripts/setup.sh (one line or several; comments and quotes allowed). */
export function parseSetupPackages(script: string): string[] {
  const match = /^packages=\(([^)]*)\)/m.exec(script);
  if (match === null) throw new Error('scripts/setup.sh has no packages=(…) array');
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(' ')
    .split(/\s+/)
    .map((word) => word.replace(/^['"]|['"]$/g, ''))
    .filter((word) => word !== '');
}

