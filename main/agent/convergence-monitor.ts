// The old owner's side of a handoff: for a while after it gave an address away (ConvergenceWatch's
// window), it watches for stations that still send to the address at its MAC, tells each of them the
// new MAC with a unicast gratuitous ARP — for an IPv6 address a unicast neighbour advertisement with the
// override flag, through the ND socket (nd/builders.ts buildUnicastAdvertisement) —, and records in the
// audit log when they have all converged — or who did not. After a takeover the old owner is gone, so
// the new owner does it instead, from the stations the cluster's binding tables know
// (TakeoverConvergence): each is told, and counts once it is seen sending to the address at the new
// MAC (an IPv6 address's stations told by unicast advertisement as well). One frame tap per interface
// while any is watched (IPv4 and IPv6 frames to our MAC).
import { performance } from 'node:perf_hooks';
import type { ArpFrame, Ipv4, Mac } from '../arp/frame';
import { buildUnicastAdvertisement } from '../nd/builders';
import type { NdFrame } from '../nd/frame';
import type { TappedFrame } from '../net/frame-tap';
import type { Host } from '../host/host';
import { isIpv6Text } from '../../preload/contract/ip-address';
import type { AuditRecord } from '../store/store';
import { ConvergenceWatch, describeConvergence, type ConvergenceOptions, type ConvergenceReport, type SendGarpEffect } from '../watch/convergence';
import { describeTakeoverConvergence, TakeoverConvergence, type KnownStation, type TakeoverReport } from '../watch/takeover-convergence';

/** Unicast gratuitous ARPs sent per tick at most (a takeover of many addresses tells many stations). */
const GARPS_PER_TICK = 2_000;
/** Addresses taken over whose convergence is watched at once; more are recorded as not watched. */
const MAX_TAKEOVERS_WATCHED = 1_024;

const TICK_MS = 250;

export interface ConvergenceMonitorOptions {
  node: string;
  host: Host;
  /** The MAC that answers for the address now (the new owner's), once known. */
  currentMacOf: (resource: string) => Mac | null;
  /** Sends a frame on an interface the node captures ARP on. */
  send: (ifname: string, frame: ArpFrame) => boolean;
  /** Sends a neighbour discovery frame on an interface the node captures on (the repair of an IPv6 straggler). */
  sendNd: (ifname: string, frame: NdFrame) => boolean;
  /**
   * Whether this node holds `resource` now and may speak for it (its lease confirmed): a takeover's
   * gratuitous ARP names this node as the address's holder, so none goes out once it let the address go
   * or was fenced — it would point stations at a node that does not answer, beside the one that does.
   */
  mayAnnounce: (resource: string) => boolean;
  append: (record: AuditRecord) => Promise<void>;
  /** Each report as it is recorded (the metrics). */
  onReport?: (report: ConvergenceReport) => void;
  onTakeoverReport?: (report: TakeoverReport) => void;
  log: (line: string) => void;
  convergence?: ConvergenceOptions;
}

interface Watched {
  resource: string;
  ifname: string;
  ourMac: Mac;
  watch: ConvergenceWatch;
}

interface TakenOver {
  resource: string;
  ifname: string;
  ourMac: Mac;
  watch: TakeoverConvergence;
}

export class ConvergenceMonitor {
  private readonly byIp = new Map<Ipv4, Watched>();
  private readonly takenByIp = new Map<Ipv4, TakenOver>();
  /** Sends beyond a tick's budget, in order. */
  private readonly sendQueue: Array<{ ifname: string; ourMac: Mac; ip: Ipv4; resource: string; garp: SendGarpEffect }> = [];
  private readonly taps = new Map<string, { close(): void }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: ConvergenceMonitorOptions) {}

  /** `resource`'s address `ip` just left this node's interface `ifname` (our MAC `ourMac` there). */
  handedOff(resource: string, ip: Ipv4, ifname: string, ourMac: Mac): void {
    if (!this.openTap(resource, ifname, ourMac)) return;
    this.takenByIp.delete(ip);
    this.byIp.set(ip, { resource, ifname, ourMac, watch: new ConvergenceWatch(ip, performance.now(), this.options.convergence) });
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  /**
   * `resource`'s address `ip` was just taken over from `from` on `ifname` (our MAC `ourMac` there):
   * `stations` (from the binding tables) are told the new MAC, the first round at once.
   */
  tookOver(resource: string, ip: Ipv4, ifname: string, ourMac: Mac, from: string, stations: readonly KnownStation[]): void {
    if (this.takenByIp.size >= MAX_TAKEOVERS_WATCHED) {
      this.append({ at: Date.now(), actor: this.options.node, action: 'arp.convergence', target: resource, outcome: 'ok', detail: `after the takeover from ${from}: not watched (${MAX_TAKEOVERS_WATCHED} takeovers watched at once already)`, handoffMs: null });
      return;
    }
    if (!this.openTap(resource, ifname, ourMac)) return;
    this.byIp.delete(ip);
    const taken: TakenOver = { resource, ifname, ourMac, watch: new TakeoverConvergence(ip, from, performance.now(), stations) };
    this.takenByIp.set(ip, taken);
    this.tickTakeover(ip, taken, performance.now());
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  private openTap(resource: string, ifname: string, ourMac: Mac): boolean {
    if (this.taps.has(ifname)) return true;
    try {
      const onLost = (reason: string): void => {
        // The interface went down or away: the proof for its addresses ends here, unproven.
        this.options.log(`convergence watch on ${ifname} ended: ${reason}`);
        this.taps.delete(ifname);
        for (const [ip, watched] of this.byIp) if (watched.ifname === ifname) this.byIp.delete(ip);
        for (const [ip, taken] of this.takenByIp) if (taken.ifname === ifname) this.takenByIp.delete(ip);
      };
      this.taps.set(ifname, this.options.host.openFrameTap(ifname, ourMac, (frame) => this.onFrame(frame), onLost));
      return true;
    } catch (error) {
      this.options.log(`convergence of ${resource}: cannot watch ${ifname}: ${(error as Error).message}`);
      return false;
    }
  }

  /** The address came back to this node (or left it): nothing to prove any more. */
  cancel(ip: Ipv4): void {
    this.byIp.delete(ip);
    this.takenByIp.delete(ip);
    this.closeIdleTaps();
  }

  private onFrame(frame: TappedFrame): void {
    const taken = this.takenByIp.get(frame.dstIp);
    if (taken) {
      taken.watch.onFrame(frame.srcMac, performance.now());
      return;
    }
    const watched = this.byIp.get(frame.dstIp);
    if (!watched) return;
    for (const effect of watched.watch.onFrame(frame.srcMac, frame.srcIp, performance.now())) {
      const ipv6 = isIpv6Text(watched.watch.ip);
      if (effect.kind === 'new-straggler') {
        this.append({ at: Date.now(), actor: this.options.node, action: 'arp.straggler', target: watched.resource, outcome: 'started', detail: `${effect.mac} (${effect.ip}) still sends to ${watched.watch.ip} at the old MAC ${watched.ourMac}: its ${ipv6 ? 'neighbour' : 'ARP'} cache is stale`, handoffMs: null });
        continue;
      }
      const newMac = this.options.currentMacOf(watched.resource);
      if (newMac === null || newMac === watched.ourMac) continue;
      try {
        if (ipv6) {
          // A unicast advertisement, override set: the straggler's neighbour cache takes the new MAC.
          this.options.sendNd(watched.ifname, buildUnicastAdvertisement({ ownMac: watched.ourMac, target: watched.watch.ip, targetMac: newMac, toMac: effect.toMac, toIp: effect.toIp }));
        } else {
          // A unicast reply: the straggler's cache learns the new MAC; Ethernet source stays ours so the
          // switch keeps the new owner's MAC on the new owner's port.
          const garp: ArpFrame = { dst: effect.toMac, src: watched.ourMac, vlan: null, arp: { op: 'reply', senderMac: newMac, senderIp: watched.watch.ip, targetMac: effect.toMac, targetIp: effect.toIp } };
          this.options.send(watched.ifname, garp);
        }
      } catch (error) {
        this.options.log(`convergence of ${watched.resource}: ${ipv6 ? 'advertisement' : 'GARP'} to ${effect.toMac} failed: ${(error as Error).message}`);
      }
    }
  }

  /** A takeover's sends now (within the tick's budget, the rest queued), and its record once over. */
  private tickTakeover(ip: Ipv4, taken: TakenOver, now: number): void {
    if (!this.options.mayAnnounce(taken.resource)) {
      this.takenByIp.delete(ip);
      this.append({ at: Date.now(), actor: this.options.node, action: 'arp.convergence', target: taken.resource, outcome: 'ok', detail: `after the takeover from ${taken.watch.from}: not finished, the address left this node`, handoffMs: null });
      return;
    }
    const { sends, report } = taken.watch.tick(now);
    for (const garp of sends) this.sendQueue.push({ ifname: taken.ifname, ourMac: taken.ourMac, ip, resource: taken.resource, garp });
    this.flushSends();
    if (report) this.recordTakeover(taken, report);
    if (taken.watch.done) this.takenByIp.delete(ip);
  }

  private flushSends(): void {
    const batch = this.sendQueue.splice(0, GARPS_PER_TICK);
    for (const { ifname, ourMac, ip, resource, garp } of batch) {
      if (!this.options.mayAnnounce(resource)) continue;
      try {
        if (isIpv6Text(ip)) {
          // A unicast advertisement from the new owner, override set: the station's cache takes our MAC.
          this.options.sendNd(ifname, buildUnicastAdvertisement({ ownMac: ourMac, target: ip, targetMac: ourMac, toMac: garp.toMac, toIp: garp.toIp }));
        } else {
          // A unicast reply from the new owner: the station's cache learns our MAC for the address.
          const frame: ArpFrame = { dst: garp.toMac, src: ourMac, vlan: null, arp: { op: 'reply', senderMac: ourMac, senderIp: ip, targetMac: garp.toMac, targetIp: garp.toIp } };
          this.options.send(ifname, frame);
        }
      } catch (error) {
        this.options.log(`convergence of ${resource}: ${isIpv6Text(ip) ? 'advertisement' : 'GARP'} to ${garp.toMac} failed: ${(error as Error).message}`);
      }
    }
  }

  private recordTakeover(taken: TakenOver, report: TakeoverReport): void {
    this.options.onTakeoverReport?.(report);
    this.append({
      at: Date.now(),
      actor: this.options.node,
      action: 'arp.convergence',
      target: taken.resource,
      outcome: 'ok',
      detail: describeTakeoverConvergence(report),
      handoffMs: null,
      arp: { kind: 'convergence', ip: report.ip, stations: report.told.length, converged: report.seen, stale: [], afterMs: report.afterMs },
    });
  }

  private tick(): void {
    const now = performance.now();
    for (const [ip, taken] of this.takenByIp) this.tickTakeover(ip, taken, now);
    this.flushSends();
    const quiet: Watched[] = [];
    for (const [ip, watched] of this.byIp) {
      const report = watched.watch.tick(now);
      if (report && report.stations === 0) quiet.push(watched);
      else if (report) this.record(watched, report);
      if (watched.watch.done) this.byIp.delete(ip);
    }
    this.recordQuiet(quiet);
    this.closeIdleTaps();
  }

  /** Handoffs nobody straggled after: one entry for all that ended together (a drain ends 1,000 at once). */
  private recordQuiet(quiet: Watched[]): void {
    if (quiet.length === 0) return;
    const only = quiet.length === 1 ? quiet[0] : undefined;
    if (only) {
      this.record(only, { ip: only.watch.ip, stations: 0, converged: [], stale: [], afterMs: null, reason: 'window-ended' });
      return;
    }
    const names = quiet.slice(0, 10).map((w) => w.resource).join(', ');
    this.append({ at: Date.now(), actor: this.options.node, action: 'arp.convergence', target: null, outcome: 'ok', detail: `converged: no station used the old MAC of ${quiet.length} handed-off addresses (${names}${quiet.length > 10 ? ', ...' : ''})`, handoffMs: null });
  }

  private record(watched: Watched, report: ConvergenceReport): void {
    this.options.onReport?.(report);
    const record: AuditRecord = {
      at: Date.now(),
      actor: this.options.node,
      action: 'arp.convergence',
      target: watched.resource,
      outcome: report.stale.length === 0 ? 'ok' : 'failed',
      detail: describeConvergence(report),
      handoffMs: null,
      arp: { kind: 'convergence', ip: report.ip, stations: report.stations, converged: report.converged, stale: report.stale, afterMs: report.afterMs },
    };
    this.append(record);
  }

  private append(record: AuditRecord): void {
    this.options.append(record).catch((error: unknown) => this.options.log(`${record.action} of ${record.target ?? '?'}: not recorded: ${String(error)}`));
  }

  private closeIdleTaps(): void {
    const busy = new Set([...this.byIp.values(), ...this.takenByIp.values()].map((w) => w.ifname));
    for (const [ifname, tap] of this.taps) {
      if (busy.has(ifname)) continue;
      tap.close();
      this.taps.delete(ifname);
    }
    if (this.byIp.size === 0 && this.takenByIp.size === 0 && this.sendQueue.length === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  close(): void {
    this.byIp.clear();
    this.takenByIp.clear();
    this.sendQueue.length = 0;
    this.closeIdleTaps();
  }
}
