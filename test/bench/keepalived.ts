// keepalived as the yardstick for the failover benchmark: a VRRP pair on two
// lab nodes (n1 priority 150, n2 priority 100, preemption on, unicast adverts
// between their lab addresses) holding one virtual address, and the scenarios
// the benchmark names, each measured as the longest silence a client
// sees in a one-datagram-per-ms stream to the address:
//
//  - planned-move: SIGTERM to the master's keepalived. It sends a priority-0
//    advert and drops the address; the backup takes over after its skew time.
//    That is keepalived's planned move (a priority change needs a reload).
//  - owner-killed: SIGKILL to every keepalived process of the master. A killed
//    keepalived leaves its address on the interface, so the dead node would go
//    on answering (two MACs for one address once the backup takes over) and the
//    client would see no gap at all. To model a dead owner, the node also loses
//    the address at the moment of the kill: 'cut-link' (default: the node is
//    gone from the LAN, as after a power loss) or 'remove-address' (the node
//    stays on the LAN without the address).
//  - link-cut: the master's cable is pulled (lab.setLinkUp(n1, false)); its
//    keepalived keeps running.
//
// Every scenario starts a fresh pair (so each starts from the same state:
// n1 master, n2 backup, the client's ARP entry fresh) and tears it down after.
// The nodes must run udp-echo (startUdpEcho in ../lab/traffic). Processes are
// signalled only by the PIDs this module started or read from the pid files of
// the keepalived it started; the lab's teardown is the last safety net.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab, LabHost } from '../lab/lab';
import { runCommand } from '../lab/netns';
import { isProcessRunning, processStartTicks, signalPid } from '../lab/processes';
import { startUdpStream, type RunningStream, type StreamReport } from '../lab/traffic';
import { KEEPALIVED_PROFILES, renderKeepalivedConfig, type KeepalivedProfile, type KeepalivedProfileName } from './keepalived-config';

export { KEEPALIVED_PROFILES, keepalivedProfile, type KeepalivedProfile, type KeepalivedProfileName } from './keepalived-config';

/** A named profile, or one made by keepalivedProfile() for any advert interval. */
export type KeepalivedProfileChoice = KeepalivedProfileName | KeepalivedProfile;

function resolveProfile(choice: KeepalivedProfileChoice): KeepalivedProfile {
  return typeof choice === 'string' ? KEEPALIVED_PROFILES[choice] : choice;
}

export const KEEPALIVED_BIN = '/usr/sbin/keepalived';
export const MASTER_PRIORITY = 150;
export const BACKUP_PRIORITY = 100;
const VIRTUAL_ROUTER_ID = 51;
const STOP_GRACE_MS = 5000;

export type VrrpState = 'starting' | 'backup' | 'master' | 'fault' | 'exited';

interface RecordedPid {
  pid: number;
  startTicks: string | null;
}

/** One keepalived (parent plus its VRRP child) running in one lab node. */
export class KeepalivedInstance {
  state: VrrpState = 'starting';
  /** Console log, for error messages. */
  readonly log: string[] = [];
  private readonly recorded: RecordedPid[] = [];
  private readonly exited: Promise<void>;
  private waiters: Array<{ state: VrrpState; resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(
    readonly host: LabHost,
    readonly priority: number,
    private readonly child: ChildProcess,
    private readonly vrrpPidFile: string,
  ) {
    if (child.pid !== undefined) this.recorded.push({ pid: child.pid, startTicks: processStartTicks(child.pid) });
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    void this.exited.then(() => this.enter('exited'));
  }

  private onLine(line: string): void {
    this.log.push(line);
    // keepalived 2.2: "(VI_1) Entering MASTER STATE", "(VI_1) Entering BACKUP STATE (init)", "... FAULT STATE".
    const match = /\) Entering (MASTER|BACKUP|FAULT) STATE/.exec(line);
    if (match?.[1] !== undefined) this.enter(match[1].toLowerCase() as VrrpState);
    // The VRRP child exists once it logs: record it while it is surely ours.
    if (match !== null || /Starting VRRP child process/.test(line)) this.recordChildren();
  }

  private enter(state: VrrpState): void {
    if (this.state === 'exited') return;
    this.state = state;
    this.waiters = this.waiters.filter((waiter) => {
      if (waiter.state === state) waiter.resolve();
      else if (state === 'exited') waiter.reject(new Error(`keepalived on ${this.host.name} exited before it was ${waiter.state}; log:\n${this.log.slice(-20).join('\n')}`));
      else return true;
      return false;
    });
  }

  /** Records the parent's children (the VRRP process) from /proc and the pid file. */
  private recordChildren(): void {
    const parent = this.child.pid;
    if (parent === undefined) return;
    const pids = new Set<number>();
    try {
      for (const text of readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/)) if (text !== '') pids.add(Number(text));
    } catch {
      // parent already gone
    }
    try {
      const fromFile = Number(readFileSync(this.vrrpPidFile, 'utf8').trim());
      // Only if it really is a child of ours: a stale pid file must not name a stranger.
      if (Number.isInteger(fromFile) && readFileSync(`/proc/${fromFile}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] === String(parent)) pids.add(fromFile);
    } catch {
      // not written yet, or the process is gone
    }
    for (const pid of pids) {
      if (this.recorded.some((r) => r.pid === pid)) continue;
      this.recorded.push({ pid, startTicks: processStartTicks(pid) });
    }
  }

  get pids(): number[] {
    return this.recorded.map((r) => r.pid);
  }

  private livePids(): RecordedPid[] {
    return this.recorded.filter((r) => isProcessRunning(r.pid, r.startTicks));
  }

  get running(): boolean {
    return this.livePids().length > 0;
  }

  waitForState(state: VrrpState, timeoutMs: number): Promise<void> {
    if (this.state === state) return Promise.resolve();
    if (this.state === 'exited') return Promise.reject(new Error(`keepalived on ${this.host.name} has exited; log:\n${this.log.slice(-20).join('\n')}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`keepalived on ${this.host.name}: not ${state} after ${timeoutMs} ms (state ${this.state}); log:\n${this.log.slice(-20).join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const fail = (error: Error): void => {
        clearTimeout(timer);
        reject(error);
      };
      this.waiters.push({ state, resolve: done, reject: fail });
    });
  }

  /** Graceful stop (SIGTERM: priority-0 advert, address dropped); SIGKILL to what is left after the grace period. */
  async stop(graceMs = STOP_GRACE_MS): Promise<void> {
    this.recordChildren();
    const parent = this.recorded[0];
    if (parent !== undefined && isProcessRunning(parent.pid, parent.startTicks)) signalPid(parent.pid, 'SIGTERM');
    await this.waitGone(graceMs);
    if (this.livePids().length > 0) await this.kill();
  }

  /**
   * SIGSTOP to every keepalived process of this node, parent first (so it cannot respawn a
   * child): adverts stop at once. A kill takes tens of ms (the processes are reaped and
   * polled), so freezing first lets the scenario take the address away right after the last
   * advert, as a power loss would, instead of only once the kill has been seen through.
   */
  freeze(): void {
    this.recordChildren();
    for (const recorded of this.livePids()) signalPid(recorded.pid, 'SIGSTOP');
  }

  /**
   * kill -9 of every keepalived process of this node. The parent is frozen first so that it
   * can neither respawn the VRRP child nor see it die; the child goes before the parent so
   * that the parent's death cannot reach it as a signal to shut down cleanly.
   */
  async kill(): Promise<void> {
    this.recordChildren();
    const [parent, ...children] = this.livePids();
    if (parent !== undefined && parent.pid === this.child.pid) signalPid(parent.pid, 'SIGSTOP');
    for (const child of children) signalPid(child.pid, 'SIGKILL');
    if (parent !== undefined) signalPid(parent.pid, 'SIGKILL');
    await this.waitGone(STOP_GRACE_MS);
    if (this.livePids().length > 0) throw new Error(`keepalived on ${this.host.name}: pids ${this.livePids().map((r) => r.pid).join(', ')} survive SIGKILL`);
  }

  private async waitGone(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await Promise.race([this.exited, sleep(timeoutMs)]);
    while (this.livePids().length > 0 && Date.now() < deadline) await sleep(10);
  }
}

export interface KeepalivedPair {
  profile: KeepalivedProfile;
  vip: string;
  /** n1, priority 150: master once started. */
  master: KeepalivedInstance;
  /** n2, priority 100. */
  backup: KeepalivedInstance;
  /** Stops both (gracefully, then by force). Idempotent. */
  stop(): Promise<void>;
}

export interface KeepalivedPairOptions {
  /** [future master, future backup]; default the lab's n1 and n2. */
  nodes?: readonly [LabHost, LabHost];
  /** Default: 5 advert intervals past the master-down time of the master. */
  readyTimeoutMs?: number;
}

function startInstance(lab: Lab, dir: string, host: LabHost, peer: LabHost, priority: number, vip: string, profile: KeepalivedProfile): KeepalivedInstance {
  const config = join(dir, `${host.name}.conf`);
  writeFileSync(
    config,
    renderKeepalivedConfig({
      routerId: `ipfo-${host.name}`,
      ifname: host.ifname,
      virtualRouterId: VIRTUAL_ROUTER_ID,
      priority,
      state: priority === MASTER_PRIORITY ? 'MASTER' : 'BACKUP',
      selfIp: host.ip,
      peerIp: peer.ip,
      virtualAddress: `${vip}/${host.prefix}`,
      profile,
    }),
  );
  const vrrpPidFile = join(dir, `${host.name}.vrrp.pid`);
  const argv = [
    // --dont-respawn: the config is deleted once the pair runs (see startKeepalivedPair), so a
    // VRRP child that died must end this keepalived, not come back without a config.
    KEEPALIVED_BIN, '--dont-fork', '--dont-respawn', '--log-console', '--no-syslog', '--vrrp',
    '--use-file', config,
    '--pid', join(dir, `${host.name}.pid`),
    '--vrrp_pid', vrrpPidFile,
    '--checkers_pid', join(dir, `${host.name}.checkers.pid`),
  ];
  const child = lab.spawn(host, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new KeepalivedInstance(host, priority, child, vrrpPidFile);
}

async function hasAddress(lab: Lab, host: LabHost, vip: string): Promise<boolean> {
  return (await lab.addresses(host)).some((address) => address.startsWith(`${vip}/`));
}

/**
 * Starts keepalived on two nodes and resolves once the first is master with the address
 * and the second is backup without it. The config directory (a temp dir) is deleted as
 * soon as both run. On failure both are stopped and the files removed.
 */
export async function startKeepalivedPair(lab: Lab, vip: string, profileChoice: KeepalivedProfileChoice, options: KeepalivedPairOptions = {}): Promise<KeepalivedPair> {
  if (!lab.contains(vip)) throw new RangeError(`${vip} is not an address of lab ${lab.id}`);
  const profile = resolveProfile(profileChoice);
  const [masterHost, backupHost] = options.nodes ?? [lab.host('n1'), lab.host('n2')];
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-keepalived-'));
  const instances: KeepalivedInstance[] = [];
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      try {
        await Promise.all(instances.map((instance) => instance.stop()));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    })();
    return stopping;
  };
  try {
    const master = startInstance(lab, dir, masterHost, backupHost, MASTER_PRIORITY, vip, profile);
    instances.push(master);
    const backup = startInstance(lab, dir, backupHost, masterHost, BACKUP_PRIORITY, vip, profile);
    instances.push(backup);
    // A non-owner starts as backup and becomes master after 3 adverts + skew without hearing one.
    const readyTimeoutMs = options.readyTimeoutMs ?? (8 * profile.advertIntS + 1) * 1000 + 2000;
    await Promise.all([master.waitForState('master', readyTimeoutMs), backup.waitForState('backup', readyTimeoutMs)]);
    // Both have read their config and every process is recorded: the files can go now, so that
    // nothing is left behind even if this process dies of a signal (the lab's hooks stop the
    // processes then, but no finally block runs).
    rmSync(dir, { recursive: true, force: true });
    // One more advert interval: the backup has heard the master at least once by then.
    await sleep(profile.advertIntS * 1000 * 1.5);
    // At adverts of tens of ms the backup's master-down time can end before the master's first advert
    // arrives (both start at once): it becomes master for a moment, until the master's higher priority
    // takes the address back (preemption). That is start-up, not the scenario: wait for it to settle.
    if (backup.state === 'master') {
      await backup.waitForState('backup', readyTimeoutMs).catch(() => undefined);
      await sleep(profile.advertIntS * 1000 * 1.5);
    }
    if (backup.state !== 'backup') throw new Error(`keepalived on ${backupHost.name} is ${backup.state}, not backup:\n${backup.log.join('\n')}`);
    if (!(await hasAddress(lab, masterHost, vip))) throw new Error(`keepalived master on ${masterHost.name} did not add ${vip}`);
    if (await hasAddress(lab, backupHost, vip)) throw new Error(`keepalived backup on ${backupHost.name} holds ${vip} too`);
    return { profile, vip, master, backup, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---- scenarios --------------------------------------------------------------

export type KeepalivedScenario = 'planned-move' | 'owner-killed' | 'link-cut';

/** What happens to the killed owner's address (see the file comment). */
export type AfterKill = 'cut-link' | 'remove-address';

export interface ScenarioOptions {
  /** The client that streams; default c1. */
  client?: LabHost | string;
  /** owner-killed only; default 'cut-link'. */
  afterKill?: AfterKill;
  /**
   * Steady stream before the action, ms (default 300). A random part of one advert
   * interval is added, so that the action falls at any point between two adverts:
   * an unplanned takeover waits for the master-down time counted from the last
   * advert, and a fixed lead-in would always hit the same phase.
   */
  leadInMs?: number;
  /** Stream kept running after the new owner answers, ms (default 300). */
  leadOutMs?: number;
  /** Stream pacing (see udp-stream); default 'spin'. */
  pacing?: 'spin' | 'sleep';
  /** How long the new owner may take to answer, ms; default 3 master-down intervals + 5 s. */
  takeoverTimeoutMs?: number;
}

export interface KeepalivedGap {
  scenario: KeepalivedScenario;
  /** The profile's name. */
  profile: string;
  afterKill: AfterKill | null;
  /** Longest silence of the client's stream, ms: the failover. */
  gapMs: number;
  /** Silence between the old owner's last reply and the new owner's first, ms. */
  ownerChangeGapMs: number;
  /** Datagrams lost. */
  lost: number;
  report: StreamReport;
}

async function waitForOwner(stream: RunningStream, host: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!stream.owners.some((change) => change.host === host)) {
    if (Date.now() > deadline) throw new Error(`the client's stream was never answered by ${host} within ${timeoutMs} ms (owners: ${JSON.stringify(stream.owners)})`);
    await sleep(5);
  }
}

export async function removeAddress(host: LabHost, vip: string): Promise<void> {
  // No error if it is not there: keepalived may have removed it itself.
  await runCommand('ip', ['-n', host.ns, 'addr', 'del', `${vip}/${host.prefix}`, 'dev', host.ifname]);
}

async function act(lab: Lab, pair: KeepalivedPair, scenario: KeepalivedScenario, afterKill: AfterKill): Promise<void> {
  const owner = pair.master.host;
  switch (scenario) {
    case 'planned-move':
      await pair.master.stop();
      return;
    case 'owner-killed':
      // Frozen, then the address goes, then the kill: the address leaves within a few ms of the last advert.
      pair.master.freeze();
      if (afterKill === 'cut-link') await lab.setLinkUp(owner, false);
      else await removeAddress(owner, pair.vip);
      await pair.master.kill();
      return;
    case 'link-cut':
      await lab.setLinkUp(owner, false);
      return;
  }
}

/**
 * Runs one scenario on a fresh keepalived pair and returns what the client saw. Leaves the
 * lab as it found it: keepalived stopped, links up, the address on neither node, the
 * client's ARP entry for it gone.
 */
export async function measureKeepalivedFailover(
  lab: Lab,
  vip: string,
  profileChoice: KeepalivedProfileChoice,
  scenario: KeepalivedScenario,
  options: ScenarioOptions = {},
): Promise<KeepalivedGap> {
  const client = lab.host(typeof options.client === 'string' ? options.client : (options.client?.name ?? 'c1'));
  const afterKill = options.afterKill ?? 'cut-link';
  const profile = resolveProfile(profileChoice);
  const [oldOwner, newOwner] = [lab.host('n1'), lab.host('n2')];
  await lab.deleteNeighbor(client, vip);
  const pair = await startKeepalivedPair(lab, vip, profile, { nodes: [oldOwner, newOwner] });
  let stream: RunningStream | null = null;
  try {
    stream = startUdpStream(lab, client, vip, { pacing: options.pacing });
    await stream.started;
    await waitForOwner(stream, oldOwner.name, 5000);
    await sleep((options.leadInMs ?? 300) + Math.random() * profile.advertIntS * 1000);
    await act(lab, pair, scenario, afterKill);
    const takeoverTimeoutMs = options.takeoverTimeoutMs ?? 3 * 1000 * (3 * profile.advertIntS + 1) + 5000;
    await waitForOwner(stream, newOwner.name, takeoverTimeoutMs);
    await sleep(options.leadOutMs ?? 300);
    const report = await stream.stop();
    stream = null;
    const gap = report.longestGap;
    if (report.longestGapMs === null || gap === null) throw new Error(`stream recorded no gap: ${JSON.stringify(report)}`);
    const changeGap = gap.hostBefore === oldOwner.name && gap.hostAfter === newOwner.name
      ? gap.ms
      : (report.firstReplyMs[newOwner.name] ?? Number.NaN) - (report.lastReplyMs[oldOwner.name] ?? Number.NaN);
    return {
      scenario,
      profile: profile.name,
      afterKill: scenario === 'owner-killed' ? afterKill : null,
      gapMs: report.longestGapMs,
      ownerChangeGapMs: Math.round(changeGap * 1000) / 1000,
      lost: report.lost,
      report,
    };
  } finally {
    if (stream !== null) await stream.stop().catch(() => undefined);
    await pair.stop();
    await lab.setLinkUp(oldOwner, true);
    await Promise.all([removeAddress(oldOwner, vip), removeAddress(newOwner, vip)]);
    await lab.deleteNeighbor(client, vip);
  }
}

/** Client-observed gap (ms) of keepalived's planned move: SIGTERM to the master. */
export async function keepalivedPlannedMove(lab: Lab, vip: string, profile: KeepalivedProfileName, options: ScenarioOptions = {}): Promise<number> {
  return (await measureKeepalivedFailover(lab, vip, profile, 'planned-move', options)).gapMs;
}

/** Client-observed gap (ms) when the master's keepalived is killed with SIGKILL (and its address goes, see afterKill). */
export async function keepalivedOwnerKilled(lab: Lab, vip: string, profile: KeepalivedProfileName, options: ScenarioOptions = {}): Promise<number> {
  return (await measureKeepalivedFailover(lab, vip, profile, 'owner-killed', options)).gapMs;
}

/** Client-observed gap (ms) when the master's link is cut. */
export async function keepalivedLinkCut(lab: Lab, vip: string, profile: KeepalivedProfileName, options: ScenarioOptions = {}): Promise<number> {
  return (await measureKeepalivedFailover(lab, vip, profile, 'link-cut', options)).gapMs;
}
