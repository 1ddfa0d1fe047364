// Proof that a handoff converged: after an address leaves a node, that node keeps watching, for a
// while, for frames still sent to the address at its own MAC. Each station that sends one has a
// stale ARP cache (a straggler); it is sent a unicast gratuitous ARP naming the new MAC, again (spaced)
// while it keeps using the old one, and counts as converged once it has been quiet towards the old MAC
// for `quietMs`. Pure: frames and times come in, effects and the report go out.
import type { Ipv4, Mac } from '../arp/frame';
import { plural } from '../../preload/contract/plural';

export interface ConvergenceOptions {
  /** How long after the handoff stragglers are looked for. Default 30 s. */
  windowMs?: number;
  /** A straggler quiet towards the old MAC this long has converged. Default 2000 ms. */
  quietMs?: number;
  /** Gratuitous ARPs per straggler at most (a station that ignores them is not flooded). Default 30. */
  maxGarps?: number;
  /** A straggler that keeps using the old MAC gets another GARP at most this often. Default 500 ms. */
  garpSpacingMs?: number;
}

export interface Straggler {
  mac: Mac;
  ip: Ipv4;
  firstSeen: number;
  lastSeen: number;
  frames: number;
  garps: number;
  lastGarpAt: number;
}

/** Send a unicast gratuitous ARP to `mac`/`ip`: the address is at the new MAC now. */
export interface SendGarpEffect {
  kind: 'send-garp';
  toMac: Mac;
  toIp: Ipv4;
}

/** A station used the old MAC for the first time since the handoff. */
export interface NewStragglerEffect {
  kind: 'new-straggler';
  mac: Mac;
  ip: Ipv4;
}

export type ConvergenceEffect = SendGarpEffect | NewStragglerEffect;

export interface ConvergenceReport {
  ip: Ipv4;
  /** Stations that used the old MAC after the handoff. */
  stations: number;
  converged: Mac[];
  /** Stations still using the old MAC when the report was made. */
  stale: Mac[];
  /** From the handoff to the last straggler's last frame to the old MAC; null without stragglers. */
  afterMs: number | null;
  /** 'settled': every straggler converged; 'window-ended': the watch is over. */
  reason: 'settled' | 'window-ended';
}

export class ConvergenceWatch {
  private readonly stragglers = new Map<Mac, Straggler>();
  private readonly windowMs: number;
  private readonly quietMs: number;
  private readonly maxGarps: number;
  private readonly garpSpacingMs: number;
  /** Stations counted in the last 'settled' report: a new report only when someone else straggles. */
  private reportedStations = 0;
  private ended = false;

  constructor(
    readonly ip: Ipv4,
    readonly handoffAt: number,
    options: ConvergenceOptions = {},
  ) {
    this.windowMs = options.windowMs ?? 30_000;
    this.quietMs = options.quietMs ?? 2000;
    this.maxGarps = options.maxGarps ?? 30;
    this.garpSpacingMs = options.garpSpacingMs ?? 500;
  }

  get done(): boolean {
    return this.ended;
  }

  /** A frame from `mac`/`ip` to the address at the old MAC. */
  onFrame(mac: Mac, ip: Ipv4, now: number): ConvergenceEffect[] {
    if (this.ended) return [];
    const effects: ConvergenceEffect[] = [];
    let straggler = this.stragglers.get(mac);
    if (!straggler) {
      straggler = { mac, ip, firstSeen: now, lastSeen: now, frames: 0, garps: 0, lastGarpAt: Number.NEGATIVE_INFINITY };
      this.stragglers.set(mac, straggler);
      effects.push({ kind: 'new-straggler', mac, ip });
    }
    straggler.lastSeen = now;
    straggler.frames += 1;
    if (straggler.garps >= this.maxGarps || now - straggler.lastGarpAt < this.garpSpacingMs) return effects;
    straggler.garps += 1;
    straggler.lastGarpAt = now;
    effects.push({ kind: 'send-garp', toMac: mac, toIp: straggler.ip });
    return effects;
  }

  private isConverged(straggler: Straggler, now: number): boolean {
    return now - straggler.lastSeen >= this.quietMs;
  }

  /**
   * Time passes: returns a report when every straggler has converged (once per new set of
   * stragglers) or when the window ends (always, then the watch is done); otherwise null.
   */
  tick(now: number): ConvergenceReport | null {
    if (this.ended) return null;
    const windowOver = now - this.handoffAt >= this.windowMs;
    const all = [...this.stragglers.values()];
    const converged = all.filter((s) => this.isConverged(s, now));
    if (windowOver) {
      this.ended = true;
      return this.report(converged, all, 'window-ended');
    }
    if (all.length > 0 && converged.length === all.length && all.length !== this.reportedStations) {
      this.reportedStations = all.length;
      return this.report(converged, all, 'settled');
    }
    return null;
  }

  private report(converged: Straggler[], all: Straggler[], reason: ConvergenceReport['reason']): ConvergenceReport {
    const lastFrame = all.reduce((latest, s) => Math.max(latest, s.lastSeen), Number.NEGATIVE_INFINITY);
    const convergedMacs = new Set(converged.map((s) => s.mac));
    return {
      ip: this.ip,
      stations: all.length,
      converged: [...convergedMacs].sort(),
      stale: all.filter((s) => !convergedMacs.has(s.mac)).map((s) => s.mac).sort(),
      afterMs: all.length === 0 ? null : Math.round(lastFrame - this.handoffAt),
      reason,
    };
  }
}

/** The move's record: "converged: all N stations updated after T ms", or who did not. */
export function describeConvergence(report: ConvergenceReport): string {
  if (report.stations === 0) return `converged: no station used the old MAC for ${report.ip}`;
  if (report.stale.length === 0) return `converged: all ${plural(report.stations, 'station')} updated after ${report.afterMs} ms (${report.converged.join(', ')})`;
  return `not converged: ${report.stale.join(', ')} still used the old MAC for ${report.ip}; ${report.converged.length} of ${report.stations} updated`;
}
