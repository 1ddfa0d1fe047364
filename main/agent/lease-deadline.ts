// The lease deadline, kept on disk (tmpfs) so that an agent restarted at once (a crash, an upgrade) can
// keep serving the addresses its predecessor registered: it may renew their kernel lifetime before it
// has even reconnected to the store, as long as the renewed lifetime still ends before the old lease
// could expire — the same rule the running agent follows. Times are CLOCK_MONOTONIC nanoseconds
// (process.hrtime), which every process on the host shares, so no wall-clock jump can fool it.
import { createHash } from 'node:crypto';
import { closeSync, constants, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { HostAddresses } from '../host/host';

/** O_NOFOLLOW where the platform has it (not Windows). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;
import { KERNEL_EARLY_EXPIRY_MS, KERNEL_EXPIRY_SLACK_MS, lifetimeForTtl, renewalLifetimeSec } from '../cluster/fencing';
import { plural } from '../../preload/contract/plural';

export const DEFAULT_STATE_DIR = '/run/ipfo';

/**
 * Default membership lease. etcd allows 2 s, but then the address lifetime is 1 s and an agent killed
 * and restarted at once (a crash, an upgrade) must re-adopt its addresses within that second: a Node.js
 * start on a busy host takes longer. 3 s gives a 2 s lifetime and lets etcd restart without any node
 * fencing; unplanned failover does not wait for the lease (the standby monitor revokes it).
 */
export const DEFAULT_LEASE_TTL_SEC = 3;

/** Seconds between the agent's load lines (`--stats-interval`). */
export const DEFAULT_STATS_INTERVAL_SEC = 600;
/** The CLOCK_MONOTONIC time (process.hrtime.bigint() ns, shared by every process) of a performance.now() instant of this one. */
export function monotonicNsAt(performanceMs: number): bigint {
  const ns = process.hrtime.bigint() + BigInt(Math.round((performanceMs - performance.now()) * 1e6));
  return ns > 0n ? ns : 1n;
}

/**
 * The name of a node's state files: the node and its cluster (the store and the cluster name). One
 * state directory serves every agent of a host, and two clusters (two labs, a demo beside a test run)
 * may both have an "n1": by node alone, one read the other's lease deadline and renewed its own
 * addresses by a lease that was not theirs.
 */
export function stateFileName(node: string, store: string, cluster: string): string {
  return `${node}.${createHash('sha256').update(`${store}\n${cluster}`).digest('hex').slice(0, 12)}`;
}

export class LeaseDeadlineFile {
  private readonly file: string;

  /** `name`: stateFileName() of the node. */
  constructor(stateDir: string, name: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.file = join(stateDir, `${name}.lease-deadline`);
  }

  /**
   * Records that the lease lives at least until `validUntil` (performance.now() ms of this process).
   * Never throws (it runs on the lease timer): returns why it could not, or null. Neither file is
   * reached through a symbolic link (the directory is checked when the host opens; this is the rest).
   */
  write(validUntil: number): string | null {
    const temp = `${this.file}.tmp`;
    try {
      const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | NO_FOLLOW, 0o600);
      try {
        writeSync(fd, `${monotonicNsAt(validUntil)}\n`);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.file);
      return null;
    } catch (error) {
      return `lease deadline not recorded in ${this.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`;
    }
  }

  /** Milliseconds the recorded lease certainly still lives (<= 0 when gone or unknown). */
  remainingMs(): number {
    let text: string;
    try {
      const fd = openSync(this.file, constants.O_RDONLY | NO_FOLLOW);
      try {
        text = readFileSync(fd, 'utf8').trim();
      } finally {
        closeSync(fd);
      }
    } catch {
      return 0;
    }
    if (!/^\d+$/.test(text)) return 0;
    return Number(BigInt(text) - process.hrtime.bigint()) / 1e6;
  }
}

/**
 * Run first by a (re)starting agent, before it loads anything slow: renews the addresses its predecessor
 * left registered, if the predecessor's lease certainly outlives the renewed lifetime. The agent then
 * re-adopts them (moves their keys to its new lease) without a gap. Returns a line for the log.
 * `deadline`: for a host that applies the renewal later (Windows), it carries the same deadline as the
 * running agent's renewals (it must still end before the lease, and land before the addresses expire).
 */
export function keepPredecessorAddresses(addresses: Pick<HostAddresses, 'listOwned' | 'register'>, stateDir: string, name: string, ttlSec: number, options: { deadline?: boolean } = {}): string | null {
  const present = addresses.listOwned().filter((a) => a.ifname !== null);
  if (present.length === 0) return null;
  const remaining = new LeaseDeadlineFile(stateDir, name).remainingMs();
  // The longest whole-second lifetime that still ends before the predecessor's lease can.
  const lifetimeSec = renewalLifetimeSec(lifetimeForTtl(ttlSec), remaining);
  // Renewing can also shorten a lifetime (it restarts from now): only extend.
  const extend = present.filter((a) => a.validLftSec !== null && a.validLftSec < lifetimeSec);
  if (lifetimeSec < 1 || extend.length === 0) {
    return `${plural(present.length, 'address')} of the previous agent kept as they are (its lease lives ${Math.round(remaining)} ms more)`;
  }
  const renewals = extend.map((a) => ({ ifname: a.ifname!, ip: a.ip, prefix: a.prefix, validLftSec: lifetimeSec, preferredLftSec: lifetimeSec }));
  if (options.deadline) {
    const shortestMs = Math.min(...extend.map((a) => a.validLftSec! * 1000));
    const leftMs = Math.min(remaining - KERNEL_EXPIRY_SLACK_MS - lifetimeSec * 1000, shortestMs - KERNEL_EARLY_EXPIRY_MS);
    const refused = addresses.register(renewals, process.hrtime.bigint() + BigInt(Math.floor(leftMs * 1e6))).filter((r) => !r.ok).length;
    if (refused > 0) return `${plural(present.length, 'address')} of the previous agent found, ${refused} not renewed: too late for its lease (it lives ${Math.round(remaining)} ms more)`;
  } else {
    addresses.register(renewals);
  }
  return `kept ${plural(present.length, 'address')} of the previous agent, ${extend.length} renewed for ${lifetimeSec} s (its lease lives ${Math.round(remaining)} ms more)`;
}
