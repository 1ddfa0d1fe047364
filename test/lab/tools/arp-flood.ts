// The ARP flooder (arp-flood.c): compiled on first use with the system's C compiler into a private
// temporary directory (removed at exit), then run inside lab hosts. See arp-flood.c for its options
// and its JSON-lines output.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** build/test/lab/tools/ -> repository root -> test/lab/tools/*.c (tsc does not copy C sources). */
const SOURCE_DIR = resolve(__dirname, '..', '..', '..', '..', 'test', 'lab', 'tools');

let workDir: string | null = null;
const built = new Map<string, string>();

/** Compiles `<SOURCE_DIR>/<name>.c` (or an absolute .c path) once per process; returns the binary's path. */
export function compileC(source: string, name: string): string {
  const cached = built.get(source);
  if (cached !== undefined) return cached;
  if (workDir === null) {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-cc-'));
    workDir = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  const binary = join(workDir, name);
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, source], { stdio: ['ignore', 'ignore', 'pipe'] });
  built.set(source, binary);
  return binary;
}

/** Path of the compiled flooder. */
export function arpFloodBinary(): string {
  return compileC(join(SOURCE_DIR, 'arp-flood.c'), 'arp-flood');
}

export interface FloodOptions {
  dev?: string;
  /** First three octets of the lab subnet, 'a.b.c'. */
  subnet: string;
  rate: number;
  durationMs: number;
  first?: number;
  last?: number;
  batch?: number;
  malformedEvery?: number;
  conflictIp?: string;
  conflictEveryMs?: number;
  conflictMac?: string;
  /** 0..255 into the stations' MACs: another salt, the same addresses with other MACs. */
  macSalt?: number;
}

/** argv for one flood run. */
export function arpFloodArgv(options: FloodOptions): string[] {
  const argv = [arpFloodBinary(), '--dev', options.dev ?? 'lan0', '--subnet', options.subnet, '--rate', String(options.rate), '--duration-ms', String(options.durationMs)];
  const optional: Array<[string, string | number | undefined]> = [
    ['--first', options.first], ['--last', options.last], ['--batch', options.batch], ['--malformed-every', options.malformedEvery],
    ['--conflict-ip', options.conflictIp], ['--conflict-every-ms', options.conflictEveryMs], ['--conflict-mac', options.conflictMac], ['--mac-salt', options.macSalt],
  ];
  for (const [flag, value] of optional) if (value !== undefined) argv.push(flag, String(value));
  return argv;
}
