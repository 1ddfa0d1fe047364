// The first standby of an address watches its owner on the wire: it asks for one of the owner's
// addresses with an ARP probe every interval (each in turn) and notes every answer. When the owner stays silent longer than silenceMs while
// this node's own link is up, the owner is dead, frozen past its kernel lifetime, or cut off — the
// agent then revokes the owner's lease instead of waiting for it to expire (etcd's TTL is 2 s at
// least), and the normal takeover follows. This is what makes unplanned failover sub-second.
import { readFileSync } from 'node:fs';
import type { Mac } from '../arp/frame';
import type { LocalAddresses } from './local-addresses';
import type { Clock } from '../engine/timers';

export interface Watched {
  resource: string;
  ip: string;
  ifname: string;
  owner: string;
  ownerLeaseId: string;
}

export interface StandbyMonitorOptions {
  intervalMs?: number;
  silenceMs?: number;
  clock: Clock;
}

/**
 * Everything this node watches of one owner on one interface. Liveness is the owner's, not each
 * address's: one probe per interval goes to one of its addresses in turn, and an answer for any of them
 * counts. A standby of 1,000 addresses thus sends 20 probes a second, not 20,000.
 */
interface OwnerWatch {
  targets: Watched[];
  /** Index of the address the next probe asks for. */
  next: number;
  lastAnswer: number;
  /** Probes sent since the last answer: silence counts only if we really asked, again and again. */
  unanswered: number;
  fired: boolean;
  /** Measured over the silence (instrumentation): kernel drops on our capture, longest gap between passes. */
  dropsInWindow: number;
  longestPassGapMs: number;
  /** One per address: the answer listener, and the probe sender. */
  controls: Map<string, { ask: () => void; stop: () => void }>;
}

/**
 * carrierUp() for one pass over many addresses: each interface's /sys file is read once (1,000 addresses
 * checked every 50 ms were 20,000 reads a second).
 */
export function carrierReader(): (ifname: string) => boolean {
  const seen = new Map<string, boolean>();
  return (ifname) => {
    let up = seen.get(ifname);
    if (up === undefined) seen.set(ifname, (up = carrierUp(ifname)));
    return up;
  };
}

export function carrierUp(ifname: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

const targetKey = (w: Watched): string => `${w.resource}|${w.ip}`;
const ownerKey = (w: Watched): string => `${w.owner}|${w.ownerLeaseId}|${w.ifname}`;

export class StandbyMonitor {
  private readonly owners = new Map<string, OwnerWatch>();
  private timer: NodeJS.Timeout | null = null;
  readonly intervalMs: number;
  readonly silenceMs: number;
  private readonly probesForSilence: number;

  constructor(
    private readonly local: LocalAddresses,
    private readonly onSilent: (target: Watched, silentMs: number, evidence: string) => void,
    private readonly options: StandbyMonitorOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 50;
    this.silenceMs = options.silenceMs ?? 250;
    this.probesForSilence = Math.max(3, Math.ceil(this.silenceMs / this.intervalMs));
  }

  /** Watches exactly these targets from now on. */
  update(targets: readonly Watched[]): void {
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
    for (const [k, group] of wanted) {
      let watch = this.owners.get(k);
      if (!watch) {
        watch = { targets: [], next: 0, lastAnswer: this.options.clock.now(), unanswered: 0, fired: false, dropsInWindow: 0, longestPassGapMs: 0, controls: new Map() };
        this.owners.set(k, watch);
      }
      this.retarget(watch, group);
    }
    if (this.owners.size > 0 && this.timer === null) this.timer = setInterval(() => this.tick(), this.intervalMs);
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
      watch.controls.set(k, this.local.watchAddress(target.ifname, target.ip, (_mac: Mac) => {
        owner.lastAnswer = this.options.clock.now();
        owner.unanswered = 0;
        owner.dropsInWindow = 0;
        owner.longestPassGapMs = 0;
      }));
    }
    watch.targets = group;
    if (watch.next >= group.length) watch.next = 0;
  }

  private lastPassAt: number | null = null;
  private readonly dropsSeen = new Map<string, number>();

  private dropsSincePass(ifname: string): number {
    const total = this.local.kernelDropped(ifname);
    if (total === null) return 0;
    const before = this.dropsSeen.get(ifname) ?? total;
    this.dropsSeen.set(ifname, total);
    return total - before;
  }

  private tick(): void {
    const now = this.options.clock.now();
    const gap = this.lastPassAt === null ? 0 : now - this.lastPassAt;
    this.lastPassAt = now;
    const carrier = carrierReader();
    const drops = new Map<string, number>();
    for (const watch of this.owners.values()) {
      const ifname = watch.targets[0]?.ifname;
      if (ifname !== undefined) {
        let d = drops.get(ifname);
        if (d === undefined) drops.set(ifname, (d = this.dropsSincePass(ifname)));
        watch.dropsInWindow += d;
        watch.longestPassGapMs = Math.max(watch.longestPassGapMs, gap);
      }
    }
    for (const watch of this.owners.values()) {
      const target = watch.targets[watch.next];
      if (!target) continue;
      watch.next = (watch.next + 1) % watch.targets.length;
      if (!carrier(target.ifname)) {
        // Our own link is down: silence says nothing about the owner.
        watch.lastAnswer = now;
        continue;
      }
      // Both a long silence and enough unanswered probes: if this process itself stalled (CPU, GC),
      // it sent no probes meanwhile and the answers are still queued in its socket — not the owner's fault.
      const silent = now - watch.lastAnswer;
      if (silent >= this.silenceMs && watch.unanswered >= this.probesForSilence && !watch.fired) {
        watch.fired = true;
        this.onSilent(target, silent, `${watch.unanswered} probes unanswered, kernel dropped ${watch.dropsInWindow} frame(s) on our capture meanwhile, longest gap between our passes ${Math.round(watch.longestPassGapMs)} ms`);
      }
      watch.controls.get(targetKey(target))?.ask();
      watch.unanswered++;
    }
  }

  stop(): void {
    this.update([]);
  }
}
