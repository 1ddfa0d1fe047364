// Every external program the product, the tests, the benches and the demo start must come from a package
// scripts/setup.sh installs (or one every Debian system has). A fresh clone once failed 45 lab tests
// because etcdctl (etcd-client) was missing from setup.sh: this test names such a program, where it is
// called, and the package to add. Debian 12 only (dpkg); elsewhere it skips and says why.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { basePackages, dpkgOwners, hasDpkg, parseDpkgSearch, parseSetupPackages, resolveProgram, symlinkChain } from './external-programs/debian';
import { COMPUTED_SITES, PRESUPPOSED_PROGRAMS } from './external-programs/known-sites';
import { baseName, scanSource, type ProgramUse, type SourceFindings } from './external-programs/scan';

const ROOT = resolve(__dirname, '..', '..', '..');
const SOURCE_DIRS = ['main', 'test', 'scripts', 'bin', 'preload'];
const SETUP_SCRIPT = join(ROOT, 'scripts', 'setup.sh');

function typeScriptFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function scanTree(): SourceFindings {
  const all: SourceFindings = { uses: [], notUnderstood: [], computedKeysUsed: [] };
  for (const path of SOURCE_DIRS.flatMap((dir) => typeScriptFiles(join(ROOT, dir))).sort()) {
    const file = relative(ROOT, path).split(sep).join('/');
    // Unit tests hold absolute paths as fixtures ('/usr/bin/node' in a unit file); only their real calls count.
    const found = scanSource(file, readFileSync(path, 'utf8'), { collectAbsolutePaths: !file.startsWith('test/unit/') });
    all.uses.push(...found.uses);
    all.notUnderstood.push(...found.notUnderstood);
    all.computedKeysUsed.push(...found.computedKeysUsed);
  }
  return all;
}

/** program -> the sites that call it (Windows-only programs left out: they never run on Debian). */
function byProgram(uses: readonly ProgramUse[]): Map<string, string[]> {
  const sites = new Map<string, string[]>();
  for (const use of uses) {
    if (use.windowsOnly) continue;
    sites.set(use.program, [...(sites.get(use.program) ?? []), use.site]);
  }
  return sites;
}

function describeSites(sites: readonly string[]): string {
  const unique = [...new Set(sites)];
  return unique.length <= 3 ? unique.join(', ') : `${unique.slice(0, 3).join(', ')} and ${unique.length - 3} more`;
}

const scanned = scanTree();

describe('external programs: the scanner', () => {
  test('understands every call site that starts a program', () => {
    assert.deepEqual(scanned.notUnderstood, [], 'teach test/unit/external-programs/known-sites.ts these call sites (with the reason), or name the program literally');
  });

  test('every listed computed call site still exists', () => {
    const used = new Set(scanned.computedKeysUsed);
    const stale = [...COMPUTED_SITES.keys()].filter((key) => !used.has(key));
    assert.deepEqual(stale, [], 'remove these entries from COMPUTED_SITES in test/unit/external-programs/known-sites.ts');
  });

  test('finds the programs the lab, the benches and the product are known to run', () => {
    const names = new Set(scanned.uses.map((use) => baseName(use.program)));
    for (const expected of ['etcd', 'etcdctl', 'ip', 'bridge', 'sysctl', 'chromium', 'keepalived', 'arpwatch', 'cc', 'systemd-analyze', 'systemctl', 'setpriv', 'setsid', 'strace', 'openssl', 'npm']) {
      assert.ok(names.has(expected), `the scanner no longer finds ${expected}: found ${[...names].sort().join(', ')}`);
    }
  });

  test('reports a launch it cannot follow, and follows runners and constants', () => {
    const source = [
      "import { spawn, execSync } from 'node:child_process';",
      "const TOOL_BIN = '/usr/bin/tool';",
      'spawn(pickProgram(), []);',
      "spawn('ip', ['netns', 'exec', ns, 'setsid', 'sleep', '1']);",
      "lab.run(host, [TOOL_BIN, '--x']);",
    ].join('\n');
    const found = scanSource('test/lab/example.ts', source, { collectAbsolutePaths: false });
    assert.deepEqual(found.notUnderstood, [
      'test/lab/example.ts:1: child_process.execSync is not understood (no shell strings: use execFile/spawn with an argument array)',
      'test/lab/example.ts:3: cannot tell which program `pickProgram()` runs',
    ]);
    assert.deepEqual(found.uses.map((use) => `${use.program}@${use.site}`), [
      'ip@test/lab/example.ts:4', 'setsid@test/lab/example.ts:4', 'sleep@test/lab/example.ts:4', '/usr/bin/tool@test/lab/example.ts:5',
    ]);
  });

  test('reads setup.sh packages and dpkg -S output', () => {
    assert.deepEqual(parseSetupPackages('x=1\npackages=(a b-c  # why\n  d)\nfor'), ['a', 'b-c', 'd']);
    const owners = parseDpkgSearch('diversion by dash from: /bin/sh\ndash: /bin/sh\ngcc-12, gcc-12-base:amd64: /usr/bin/gcc-12\n');
    assert.deepEqual(owners.get('/bin/sh'), ['dash']);
    assert.deepEqual(owners.get('/usr/bin/gcc-12'), ['gcc-12', 'gcc-12-base']);
  });
});

describe('external programs: each comes from a package scripts/setup.sh installs', () => {
  test('resolves and belongs to a package named in setup.sh (or one every Debian system has)', (t) => {
    if (!hasDpkg()) {
      t.skip('no dpkg-query: this check is for Debian 12, the system setup.sh supports');
      return;
    }
    const setupPackages = new Set(parseSetupPackages(readFileSync(SETUP_SCRIPT, 'utf8')));
    const programs = byProgram(scanned.uses);
    const failures: string[] = [];
    const chains = new Map<string, string[]>();
    for (const [program, sites] of programs) {
      if (PRESUPPOSED_PROGRAMS.has(baseName(program))) continue;
      const path = resolveProgram(program);
      if (path === null) {
        failures.push(`${program} (called at ${describeSites(sites)}) is not installed: add the Debian package that provides it to packages=(…) in scripts/setup.sh`);
        continue;
      }
      chains.set(program, symlinkChain(path));
    }
    const owners = dpkgOwners([...new Set([...chains.values()].flat())]);
    const base = basePackages([...new Set([...owners.values()].flat())]);
    for (const [program, chain] of chains) {
      // Every package owning a step counts: /usr/bin/cc is an alternative (no owner) -> /usr/bin/gcc (gcc) -> gcc-12.
      const packages = [...new Set(chain.flatMap((step) => owners.get(step) ?? []))];
      if (packages.some((name) => setupPackages.has(name) || base.has(name))) continue;
      const sites = describeSites(programs.get(program) ?? []);
      failures.push(packages.length === 0
        ? `${program} (called at ${sites}) resolves to ${chain.join(' -> ')}, which no Debian package owns: install it from a package and add that to scripts/setup.sh`
        : `${program} (called at ${sites}) comes from package ${packages[0]!}, which scripts/setup.sh does not install: add ${packages[0]!} to packages=(…) in scripts/setup.sh`);
    }
    assert.deepEqual(failures, []);
  });
});
