// Measurements for `npm run bench:watch` (watch.bench.ts): one watcher (ipfo watch or arpwatch) on a lab
// host's lan0 while the rogue floods ARP at one rate. What is measured and how:
//   sent          the flooder's own count (frames sendmmsg accepted)
//   delivered     lan0's rx_packets on the watcher over the window (what reached the watcher's interface,
//                 hence its capture socket; losses before it, in the bridge, are nobody's watch's fault)
//   seen          ours: frames libpcap handed to ipfo watch (its `received` counter); arpwatch: the kernel's
//                 count of frames that passed its capture filter (it does not count what it processed)
//   kernel drops  the capture socket's PACKET_STATISTICS tp_drops (= libpcap's pcap_stats ps_drop): ours
//                 reads it itself (kernelDropped in its stats record); arpwatch's is read from outside with
//                 watch-socket-stats.c (pidfd_getfd on its socket), the same counter by the same syscall
//   cpu           utime + stime of the watcher process (/proc/<pid>/stat) over the window, % of one core
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { Lab, LabHost } from '../lab/lab';
import { ip } from '../lab/netns';
import { ipfoArgv } from '../lab/ipfo';
import { arpFloodArgv, compileC, type FloodOptions } from '../lab/tools/arp-flood';

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64
const DRAIN_MS = 300;
/**
 * Before each measured flood: every station becomes a binding, and V8 has optimized the watch's per-frame
 * path, as in a watch that has been running for a while (a cold process needs ~0.5 s of a 100k fps flood to
 * catch up: conflicts in that first half second were seen 20-140 ms late). The same for arpwatch.
 */
export const WARM_UP = { rate: 20_000, durationMs: 1000 } as const;
const wallNow = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type WatcherKind = 'ipfo' | 'arpwatch';

export interface RunResult {
  watcher: WatcherKind;
  rate: number;
  sent: number;
  /** The flooder's achieved rate. */
  sentRate: number;
  delivered: number;
  seen: number;
  kernelDrops: number;
  cpuPercent: number;
}

export interface ConflictSample {
  /** Flooder's send (CLOCK_REALTIME) -> the frame handed to ipfo watch (the event's `time`, ms precision). */
  toCapture: number;
  /** Flooder's send -> the conflict line read from ipfo watch's stdout by this process. */
  toLine: number;
}

/** utime + stime of a process in seconds. */
export function cpuSeconds(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
}

async function rxPackets(host: LabHost): Promise<number> {
  const links = JSON.parse(await ip(['-n', host.ns, '-s', '-j', 'link', 'show', 'dev', host.ifname])) as Array<{ stats64?: { rx?: { packets?: number } } }>;
  return Number(links[0]?.stats64?.rx?.packets ?? Number.NaN);
}

/** A child's stdout as JSON lines, each with the wall-clock ms at which this process read it. */
class TimedLines {
  readonly lines: Array<{ at: number; record: Record<string, unknown> }> = [];
  stderr = '';
  private waiters: Array<() => void> = [];
  readonly closed: Promise<void>;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const at = wallNow();
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        record = { text: line };
      }
      this.lines.push({ at, record });
      for (const wake of this.waiters.splice(0)) wake();
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.stderr.length < 65536) this.stderr += chunk;
    });
    this.closed = new Promise((r) => child.once('close', () => r()));
  }

  async waitFor(match: (record: Record<string, unknown>) => boolean, timeoutMs: number, what: string, from = 0): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).find((l) => match(l.record));
      if (found) return found.record;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`);
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), sleep(100), this.closed]);
    }
  }
}

const BENCH_SOURCE_DIR = resolve(__dirname, '..', '..', '..', 'test', 'bench');

/** The packet socket fds of a process (in its own namespace's /proc/<pid>/net/packet). */
function packetSocketFds(pid: number): number[] {
  const packet = readFileSync(`/proc/${pid}/net/packet`, 'utf8').split('\n').slice(1);
  const inodes = new Set(packet.map((line) => line.trim().split(/\s+/)[8]).filter((x): x is string => x !== undefined));
  const fds: number[] = [];
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${name}`));
      if (match && inodes.has(match[1]!)) fds.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return fds;
}

function socketStats(pid: number, fd: number): Promise<{ packets: number; drops: number }> {
  const helper = compileC(join(BENCH_SOURCE_DIR, 'watch-socket-stats.c'), 'watch-socket-stats');
  return new Promise((resolvePromise, reject) => {
    execFile(helper, [String(pid), String(fd)], (error, stdout, stderr) => {
      if (error) reject(new Error(`watch-socket-stats ${pid} ${fd}: ${stderr || error.message}`));
      else resolvePromise(JSON.parse(stdout) as { packets: number; drops: number });
    });
  });
}

interface Watcher {
  pid: number;
  /** Counters now: frames seen and kernel drops since the watcher started. */
  counters(): Promise<{ seen: number; drops: number }>;
  stop(): Promise<void>;
}

async function startIpfoWatcher(lab: Lab, host: LabHost, held: readonly string[]): Promise<Watcher & { lines: TimedLines }> {
  const args = ['watch', '--dev', host.ifname, '--json', ...(held.length > 0 ? ['--held', held.join(',')] : [])];
  const lines = new TimedLines(lab.spawn(host, ipfoArgv(args), { stdio: ['ignore', 'pipe', 'pipe'] }));
  await lines.waitFor((r) => r.event === 'stats', 10_000, 'ipfo watch stats');
  let final: Record<string, unknown> | null = null;
  const latest = (): Record<string, unknown> => final ?? [...lines.lines].reverse().find((l) => l.record.event === 'stats')!.record;
  return {
    pid: lines.child.pid!,
    lines,
    // The watch reports every second; the bench reads the last report after the drain (and the final one at stop).
    counters: async () => {
      const mark = lines.lines.length;
      await lines.waitFor((r) => r.event === 'stats', 3000, 'next stats', mark);
      const s = latest();
      return { seen: Number(s.received), drops: Number(s.kernelDropped) };
    },
    stop: async () => {
      const mark = lines.lines.length;
      await lab.stop(lines.child);
      final = (await lines.waitFor((r) => r.event === 'stats' && r.final === true, 3000, 'final stats', mark).catch(() => null)) ?? null;
    },
  };
}

async function startArpwatch(lab: Lab, host: LabHost, dir: string): Promise<Watcher> {
  const dat = join(dir, 'arp.dat');
  writeFileSync(dat, '');
  // -d: foreground, reports to stderr instead of mail; -N: no bogon reports (the flood's senders are on the subnet anyway).
  const child = lab.spawn(host, ['arpwatch', '-d', '-N', '-i', host.ifname, '-f', dat], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    if (stderr.length < 65536) stderr += chunk;
  });
  const pid = child.pid!;
  let fd: number | null = null;
  for (let i = 0; i < 100 && fd === null; i++) {
    await sleep(50);
    if (child.exitCode !== null) throw new Error(`arpwatch exited: ${stderr}`);
    const fds = packetSocketFds(pid);
    if (fds.length === 1) fd = fds[0]!;
  }
  if (fd === null) throw new Error(`arpwatch's capture socket not found; stderr: ${stderr}`);
  const socketFd = fd;
  let seen = 0;
  let drops = 0;
  const read = async (): Promise<void> => {
    const s = await socketStats(pid, socketFd);
    seen += s.packets - s.drops; // tp_packets counts the dropped ones too
    drops += s.drops;
  };
  await read();
  seen = 0;
  drops = 0;
  return {
    pid,
    counters: async () => {
      await read();
      return { seen, drops };
    },
    stop: () => lab.stop(child),
  };
}

/** The flood's stations: .101-.240 of the lab's /24; the conflict address (lab.vip(150) = .250) is outside it. */
export const FLOOD_STATIONS = { first: 101, last: 240 } as const;

function runFlood(lab: Lab, host: LabHost, options: FloodOptions): TimedLines {
  return new TimedLines(lab.spawn(host, arpFloodArgv({ ...FLOOD_STATIONS, ...options }), { stdio: ['ignore', 'pipe', 'pipe'] }));
}

export interface RunParams {
  lab: Lab;
  watcherHost: LabHost;
  flooder: LabHost;
  subnet: string;
  rate: number;
  durationMs: number;
}

/** One watcher, one flood at one rate; counters over [flood start, flood end + drain]. */
export async function measureRun(kind: WatcherKind, params: RunParams): Promise<RunResult> {
  const { lab, watcherHost, flooder, subnet, rate, durationMs } = params;
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-bench-watch-'));
  try {
    const watcher = kind === 'ipfo' ? await startIpfoWatcher(lab, watcherHost, []) : await startArpwatch(lab, watcherHost, dir);
    try {
      // Warm-up: every station once, so that the window measures steady state (bindings exist) in both.
      const warm = runFlood(lab, flooder, { subnet, ...WARM_UP });
      await warm.waitFor((r) => r.type === 'summary', 10_000, 'warm-up flood');
      await sleep(DRAIN_MS);
      const before = await watcher.counters();
      const rxBefore = await rxPackets(watcherHost);
      const cpuBefore = cpuSeconds(watcher.pid);
      const t0 = performance.now();
      const flood = runFlood(lab, flooder, { subnet, rate, durationMs });
      const summary = await flood.waitFor((r) => r.type === 'summary', durationMs + 10_000, 'flood summary');
      await sleep(DRAIN_MS);
      const cpuAfter = cpuSeconds(watcher.pid);
      const windowSec = (performance.now() - t0) / 1000;
      const rxAfter = await rxPackets(watcherHost);
      const after = await watcher.counters();
      return {
        watcher: kind,
        rate,
        sent: Number(summary.sent),
        sentRate: Number(summary.rate),
        delivered: rxAfter - rxBefore,
        seen: after.seen - before.seen,
        kernelDrops: after.drops - before.drops,
        cpuPercent: (100 * (cpuAfter - cpuBefore)) / windowSec,
      };
    } finally {
      await watcher.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ipfo watch holding `conflictIp` while the rogue floods at `rate` and sends a conflicting announcement every `everyMs`. */
export async function measureConflicts(params: RunParams & { conflictIp: string; everyMs: number }): Promise<{ samples: ConflictSample[]; injected: number; reported: number; drops: number }> {
  const { lab, watcherHost, flooder, subnet, rate, durationMs, conflictIp, everyMs } = params;
  const watcher = await startIpfoWatcher(lab, watcherHost, [conflictIp]);
  try {
    const warm = runFlood(lab, flooder, { subnet, ...WARM_UP });
    await warm.waitFor((r) => r.type === 'summary', 10_000, 'warm-up flood');
    await sleep(DRAIN_MS);
    const before = await watcher.counters();
    const mark = watcher.lines.lines.length;
    const flood = runFlood(lab, flooder, { subnet, rate, durationMs, conflictIp, conflictEveryMs: everyMs });
    await flood.waitFor((r) => r.type === 'summary', durationMs + 10_000, 'flood summary');
    await sleep(DRAIN_MS);
    const after = await watcher.counters();
    const sentAt = new Map<string, number>();
    for (const { record } of flood.lines) if (record.type === 'conflict') sentAt.set(String(record.mac), Number(record.realtimeNs) / 1e6);
    const samples: ConflictSample[] = [];
    let reported = 0;
    for (const { at, record } of watcher.lines.lines.slice(mark)) {
      if (record.event !== 'conflict' || record.ip !== conflictIp) continue;
      reported++;
      const sent = sentAt.get(String(record.theirMac));
      if (sent === undefined) continue;
      samples.push({ toCapture: Date.parse(String(record.time)) - sent, toLine: at - sent });
    }
    return { samples, injected: sentAt.size, reported, drops: after.drops - before.drops };
  } finally {
    await watcher.stop();
  }
}
