// The first standby of an address watches its owner on the wire: it asks for one of the owner's
// addresses with an ARP probe every interval (each in turn; the failover profile sets the interval and
// the silence, cluster/failover-profile.ts) and notes every answer. When the owner stays silent longer than silenceMs while
// this node's own link is up, the owner is dead, frozen past its kernel lifetime, or cut off — the
// agent then revokes the owner's lease instead of waiting for it to expire (etcd's TTL is 2 s at
// least), and the normal takeover follows. This is what makes unplanned failover sub-second.
import type { Mac } from '../arp/frame';
import type { LocalAddresses } from './local-addresses';
import type { Clock } from '../engine/timers';
import { ProbeAnswers } from './probe-answers';
import { carrierUp, type Host } from '../host/host';
import { answered, asked, judge, openWindow, type SilenceWindow } from './silence-window';
import { detectionFor, DEFAULT_FAILOVER_PROFILE, type Detection } from '../cluster/failover-profile';

export interface Watched {
  resource: string;
  ip: string;
  ifname: string;
  owner: string;
  ownerLeaseId: string;
}

/** What a standby knows when it finds an owner silent. */
export interface Silence {
  /** The silence that counted (since the last answer, or since this node could last not hear). */
  silentMs: number;
  /** How long ago the owner last answered; null: not once since this node watched it. */
  lastHeardMsAgo: number | null;
  /** Why the silence is evidence, in words for the log and the audit. */
  evidence: string;
  /** Every resource of that owner this node watches there (it is their first standby), but those on the move. */
  resources: readonly string[];
}

export interface StandbyMonitorOptions {
  host: Host;
  /** The probe interval and what silence counts (default: the default profile's). */
  detection?: Detection;
  clock: Clock;
  /** Where the monitor says why it did not count a silence (rate-limited). */
  log?: (text: string) => void;
}

/** At most one "could not hear" line per interface and reason this often. */
const DEAF_LOG_INTERVAL_MS = 10_000;

/**
 * Everything this node watches of one owner on one interface. Liveness is the owner's, not each
 * address's: one probe per interval goes to one of its confirmed addresses in turn (and one to an
 * address not confirmed yet, if any), and an answer for any of them counts. A standby of 1,000
 * addresses thus sends 20-40 probes a second, not 20,000.
 */
interface OwnerWatch {
  targets: Watched[];
  /** Where the next search for an address to ask starts: one cursor for confirmed addresses, one for the others. */
  next: number;
  nextUnconfirmed: number;
  /**
   * Addresses the owner was heard answering for since this node watches it. Only their silence is
   * evidence: the store can name an owner for an address its kernel does not hold (a status not yet
   * updated after a failed move, a registration still under way), and asking for such an address
   * proves nothing about the owner. The others are asked too, in between, so that they get confirmed.
   */
  confirmed: Set<string>;
  /** The silence that counts: since the last answer or the last moment this node could not hear. */
  window: SilenceWindow;
  fired: boolean;
  /** When (clock ms) the owner was last heard answering; null: not since this node watches it. */
  lastAnsweredAt: number | null;
  /** Longest gap between two of our passes within the window (reported with a revocation). */
  longestPassGapMs: number;
  /** One per address: the answer listener on the shared socket, and the probe sender. */
  controls: Map<string, { ask: () => void; stop: () => void }>;
}

/**
 * The carrier of each interface for one pass over many addresses: each interface is read once (1,000
 * addresses checked every 50 ms were 20,000 reads a second).
 */
function carrierReader(host: Host): (ifname: string) => boolean {
  const seen = new Map<string, boolean>();
  return (ifname) => {
    let up = seen.get(ifname);
    if (up === undefined) seen.set(ifname, (up = carrierUp(host, ifname)));
    return up;
  };
}

const targetKey = (w: Watched): string => `${w.resource}|${w.ip}`;
const ownerKey = (w: Watched): string => `${w.owner}|${w.ownerLeaseId}|${w.ifname}`;
const verdictKey = (owner: string, ifname: string): string => `${owner}|${ifname}`;

export class StandbyMonitor {
  private readonly owners = new Map<string, OwnerWatch>();
  /** `ifname|ip` -> the watch of the owner of that address: where an answer on the dedicated capture goes. */
  private readonly byAddress = new Map<string, OwnerWatch>();
  private readonly answers: ProbeAnswers;
  private timer: NodeJS.Timeout | null = null;
  private lastPassAt: number | null = null;
  /** The shared socket's drop counter per interface when last read (used where the dedicated capture is missing). */
  private readonly sharedDropsRead = new Map<string, number>();
  private readonly deafLog = new Map<string, { since: number; passes: number }>();
  /** Resources whose move began since the last update(): not asked for (setAside). */
  private readonly asideResources = new Set<string>();
  /** Something of the last update() is still to be done again (needsUpdate). */
  private incomplete = false;
  /** How often this monitor asks, and when a silence is a verdict (cluster/failover-profile.ts). */
  readonly detection: Detection;
  /** `owner|ifname` -> when (clock ms) this monitor last found that owner silent there, unanswered since. */
  private readonly verdicts = new Map<string, number>();

  constructor(
    private readonly local: LocalAddresses,
    private readonly onSilent: (target: Watched, silence: Silence) => void,
    private readonly options: StandbyMonitorOptions,
  ) {
    this.detection = options.detection ?? detectionFor(DEFAULT_FAILOVER_PROFILE);
    this.answers = new ProbeAnswers(options.host, (ifname, ip) => this.onAnswer(ifname, ip), (text) => this.options.log?.(text));
  }

  /**
   * A move of `resource` began: its owner may let go of the address any moment, so from now on it is not
   * asked for and its silence proves nothing. Takes effect at once, not at the next update() (which
   * leaves it out while the move lasts): the owner lets go one store round trip after the move is asked
   * for, and a standby whose reconcile came later probed addresses a live owner had just handed over —
   * three of those in a row revoked a draining node.
   */
  setAside(resource: string): void {
    this.asideResources.add(resource);
  }

  /**
   * update() with the same targets as last time would still change something: a move set an address
   * aside since, an interface was forgotten, or a listener or capture could not be opened last time
   * (it is tried again on each update).
   */
  needsUpdate(): boolean {
    return this.asideResources.size > 0 || this.incomplete || this.answers.missing();
  }

  /** Watches exactly these targets from now on. */
  update(targets: readonly Watched[]): void {
    this.asideResources.clear();
    this.incomplete = false;
    const wanted = new Map<string, Watched[]>();
    for (const target of targets) {
      const group = wanted.get(ownerKey(target));
      if (group) group.push(target);
      else wanted.set(ownerKey(target), [target]);
    }
    for (const [k, watch] of this.owners) {
      if (wanted.has(k)) continue;
      for (const controls of watch.controls.values()) controls.stop();
      this.owners.delete(k);
    }
    this.byAddress.clear();
    for (const [k, group] of wanted) {
      let watch = this.owners.get(k);
      if (!watch) {
        watch = { targets: [], next: 0, nextUnconfirmed: 0, confirmed: new Set(), window: openWindow(this.options.clock.now()), fired: false, lastAnsweredAt: null, longestPassGapMs: 0, controls: new Map() };
        this.owners.set(k, watch);
      }
      this.retarget(watch, group);
      for (const target of group) this.byAddress.set(`${target.ifname}|${target.ip}`, watch);
    }
    this.answers.listenOn(new Set(targets.map((t) => t.ifname)));
    if (this.owners.size > 0 && this.timer === null) {
      this.lastPassAt = null;
      this.timer = setInterval(() => this.tick(), this.detection.probeIntervalMs);
    }
    if (this.owners.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** The owner's addresses changed: listen for the new ones, stop listening for the gone ones. */
  private retarget(watch: OwnerWatch, group: Watched[]): void {
    const keep = new Set(group.map(targetKey));
    for (const [k, controls] of watch.controls) {
      if (keep.has(k)) continue;
      controls.stop();
      watch.controls.delete(k);
    }
    for (const target of group) {
      const k = targetKey(target);
      if (watch.controls.has(k)) continue;
      const owner = watch;
      try {
        // Any ARP frame from the owner for the address heard on the shared socket counts as well.
        watch.controls.set(k, this.local.watchAddress(target.ifname, target.ip, (_mac: Mac) => this.heard(owner, target.ip)));
      } catch {
        // Our interface is down or away: nothing can be asked or heard there; the next update tries again.
        this.incomplete = true;
      }
    }
    watch.targets = group;
    const ips = new Set(group.map((t) => t.ip));
    for (const ip of watch.confirmed) if (!ips.has(ip)) watch.confirmed.delete(ip);
    if (watch.next >= group.length) watch.next = 0;
    if (watch.nextUnconfirmed >= group.length) watch.nextUnconfirmed = 0;
  }

  private onAnswer(ifname: string, ip: string): void {
    const watch = this.byAddress.get(`${ifname}|${ip}`);
    if (watch) this.heard(watch, ip);
  }

  private heard(watch: OwnerWatch, ip: string): void {
    if (watch.fired) this.verdicts.delete(verdictKey(watch.targets[0]!.owner, watch.targets[0]!.ifname));
    watch.confirmed.add(ip);
    const now = this.options.clock.now();
    answered(watch.window, now);
    watch.lastAnsweredAt = now;
    watch.longestPassGapMs = 0;
  }

  /**
   * Our capture on `ifname` was closed (the interface failed): every watch there starts afresh on the
   * next update, with new captures and a new silence window.
   */
  forgetInterface(ifname: string): void {
    this.incomplete = true;
    for (const [k, watch] of this.owners) {
      if (watch.targets[0]?.ifname !== ifname) continue;
      for (const controls of watch.controls.values()) controls.stop();
      this.owners.delete(k);
    }
    this.answers.forget(ifname);
  }

  private tick(): void {
    // Node runs timers before it reads sockets: judged here, a standby that stalled would judge with the
    // owner's answers still queued. setImmediate runs right after this loop turn's reads.
    setImmediate(() => {
      if (this.timer !== null) this.pass();
    });
  }

  /** Frames lost on the capture that hears the answers of `ifname` since the last pass (null: unknown). */
  private droppedSinceLastPass(ifname: string, family: 'ipv4' | 'ipv6'): number | null {
    // IPv6 owners answer with neighbour advertisements, heard only on the shared ND socket.
    if (family === 'ipv4' && this.answers.has(ifname)) return this.answers.droppedSinceLastRead(ifname);
    const total = this.local.kernelDropped(ifname, family);
    if (total === null) return null;
    const key = `${ifname}|${family}`;
    const dropped = total - (this.sharedDropsRead.get(key) ?? total);
    this.sharedDropsRead.set(key, total);
    return dropped;
  }

  private pass(): void {
    const now = this.options.clock.now();
    const gap = this.lastPassAt === null ? 0 : now - this.lastPassAt;
    this.lastPassAt = now;
    const carrier = carrierReader(this.options.host);
    const drops = new Map<string, number | null>();
    const dropsOf = (target: Watched): number | null => {
      const family = target.ip.includes(':') ? 'ipv6' : 'ipv4';
      const key = `${target.ifname}|${family}`;
      if (!drops.has(key)) drops.set(key, this.droppedSinceLastPass(target.ifname, family));
      return drops.get(key) ?? null;
    };
    for (const watch of this.owners.values()) {
      const target = this.nextTarget(watch, true);
      const unconfirmed = this.nextTarget(watch, false);
      // Not one address confirmed yet: ask, but there is nothing to judge.
      if (!target) {
        if (unconfirmed) this.ask(watch, unconfirmed);
        continue;
      }
      watch.longestPassGapMs = Math.max(watch.longestPassGapMs, gap);
      // Without a way to ask there (our capture could not be opened) silence says nothing, as with our link down.
      const canHear = carrier(target.ifname) && watch.controls.has(targetKey(target));
      const verdict = judge(watch.window, { now, carrierUp: canHear, droppedFrames: dropsOf(target) }, { silenceMs: this.detection.ownerSilenceMs, probesForSilence: this.detection.probesForSilence });
      if (verdict.kind === 'deaf') {
        watch.longestPassGapMs = 0;
        this.noteDeaf(target.ifname, verdict.reason, now);
      }
      if (verdict.kind === 'silent' && !watch.fired) {
        watch.fired = true;
        this.noteVerdict(target, now);
        const channel = target.ip.includes(':') ? 'shared ND socket' : this.answers.has(target.ifname) ? 'probe-answer capture' : 'shared ARP socket';
        const lastHeardMsAgo = watch.lastAnsweredAt === null ? null : now - watch.lastAnsweredAt;
        this.onSilent(target, { silentMs: verdict.silentMs, lastHeardMsAgo, evidence: `${verdict.asked} probes for addresses it had answered for went unanswered, nothing lost on our ${channel} meanwhile, longest gap between our passes ${Math.round(watch.longestPassGapMs)} ms`, resources: watch.targets.filter((t) => !this.asideResources.has(t.resource)).map((t) => t.resource) });
      }
      this.ask(watch, target);
      asked(watch.window);
      if (unconfirmed) this.ask(watch, unconfirmed);
    }
  }

  /**
   * How long ago (ms) this monitor found `owner` silent on `ifname`, with no answer from it heard since;
   * null when it did not (or too long ago to remember). A takeover by this node right after its own
   * verdict needs no second look (claims.ts, freshVerdictMs).
   */
  silentFor(owner: string, ifname: string): number | null {
    const at = this.verdicts.get(verdictKey(owner, ifname));
    return at === undefined ? null : this.options.clock.now() - at;
  }

  /** At most a few owners die at once: older verdicts than the last 64 are forgotten. */
  private noteVerdict(target: Watched, now: number): void {
    const key = verdictKey(target.owner, target.ifname);
    this.verdicts.delete(key);
    this.verdicts.set(key, now);
    if (this.verdicts.size > 64) this.verdicts.delete(this.verdicts.keys().next().value!);
  }

  /** Probes sent since this monitor started (a bounded rate: at most two per owner per pass). */
  probesSent = 0;

  /** Owners watched now. */
  get ownersWatched(): number {
    return this.owners.size;
  }

  private ask(watch: OwnerWatch, target: Watched): void {
    const controls = watch.controls.get(targetKey(target));
    if (!controls) return;
    controls.ask();
    this.probesSent += 1;
  }

  /** The next address to ask for among the confirmed ones (or the others), in turn; null when there is none. */
  private nextTarget(watch: OwnerWatch, confirmed: boolean): Watched | null {
    const count = watch.targets.length;
    const start = confirmed ? watch.next : watch.nextUnconfirmed;
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      const target = watch.targets[index]!;
      if (watch.confirmed.has(target.ip) !== confirmed || this.asideResources.has(target.resource)) continue;
      if (confirmed) watch.next = (index + 1) % count;
      else watch.nextUnconfirmed = (index + 1) % count;
      return target;
    }
    return null;
  }

  /** Rate-limited: how often this node could not have heard an owner, and why. */
  private noteDeaf(ifname: string, reason: string, now: number): void {
    const kind = `${ifname}|${reason.replace(/\d+/g, 'N')}`;
    const entry = this.deafLog.get(kind);
    if (entry === undefined) {
      this.deafLog.set(kind, { since: now, passes: 0 });
      this.options.log?.(`standby on ${ifname} could not hear its owners (${reason}): their silence does not count until it can`);
      return;
    }
    entry.passes++;
    if (now - entry.since >= DEAF_LOG_INTERVAL_MS) {
      this.options.log?.(`standby on ${ifname} could not hear its owners in ${entry.passes} passes of the last ${Math.round((now - entry.since) / 1000)} s (${reason.replace(/\d+/g, 'N')})`);
      this.deafLog.set(kind, { since: now, passes: 0 });
    }
  }

  stop(): void {
    this.update([]);
    this.answers.close();
  }
}
