// The first standby of an address watches its owner on the wire: it asks for the address with an ARP
// probe every interval and notes every answer. When the owner stays silent longer than silenceMs while
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

interface Watch {
  target: Watched;
  lastAnswer: number;
  /** Probes sent since the last answer: silence counts only if we really asked, again and again. */
  unanswered: number;
  fired: boolean;
  controls: { ask: () => void; stop: () => void };
}

export function carrierUp(ifname: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${ifname}/carrier`, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

const key = (w: Watched): string => `${w.resource}|${w.ip}|${w.ifname}|${w.owner}|${w.ownerLeaseId}`;

export class StandbyMonitor {
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | null = null;
  readonly intervalMs: number;
  readonly silenceMs: number;
  private readonly probesForSilence: number;

  constructor(
    private readonly local: LocalAddresses,
    private readonly onSilent: (target: Watched, silentMs: number) => void,
    private readonly options: StandbyMonitorOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 50;
    this.silenceMs = options.silenceMs ?? 250;
    this.probesForSilence = Math.max(3, Math.ceil(this.silenceMs / this.intervalMs));
  }

  /** Watches exactly these targets from now on. */
  update(targets: readonly Watched[]): void {
    const wanted = new Map(targets.map((t) => [key(t), t]));
    for (const [k, watch] of this.watches) {
      if (!wanted.has(k)) {
        watch.controls.stop();
        this.watches.delete(k);
      }
    }
    for (const [k, target] of wanted) {
      if (this.watches.has(k)) continue;
      const watch: Watch = { target, lastAnswer: this.options.clock.now(), unanswered: 0, fired: false, controls: { ask: () => undefined, stop: () => undefined } };
      watch.controls = this.local.watchAddress(target.ifname, target.ip, (_mac: Mac) => {
        watch.lastAnswer = this.options.clock.now();
        watch.unanswered = 0;
      });
      this.watches.set(k, watch);
    }
    if (this.watches.size > 0 && this.timer === null) this.timer = setInterval(() => this.tick(), this.intervalMs);
    if (this.watches.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private tick(): void {
    const now = this.options.clock.now();
    for (const watch of this.watches.values()) {
      if (!carrierUp(watch.target.ifname)) {
        // Our own link is down: silence says nothing about the owner.
        watch.lastAnswer = now;
        continue;
      }
      // Both a long silence and enough unanswered probes: if this process itself stalled (CPU, GC),
      // it sent no probes meanwhile and the answers are still queued in its socket — not the owner's fault.
      const silent = now - watch.lastAnswer;
      if (silent >= this.silenceMs && watch.unanswered >= this.probesForSilence && !watch.fired) {
        watch.fired = true;
        this.onSilent(watch.target, silent);
      }
      watch.controls.ask();
      watch.unanswered++;
    }
  }

  stop(): void {
    this.update([]);
  }
}
