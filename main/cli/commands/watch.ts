// `ipfo watch --dev <if>`: a live feed of ARP and IPv6 neighbour discovery traffic on one interface.
//
// With --json, a `stats` record every STATS_INTERVAL_MS and one more at exit: frames received,
// decoded, malformed (by reason; counted and dropped, the watch goes on), the kernel's capture
// counters (libpcap's ps_recv / ps_drop: frames that passed the filter, and those lost because
// the capture ring was full) and the binding table's size; the same for the ND capture under `nd`.
// Without --json, one summary line at exit.
//
// ND has a capture of its own (NdSocket, beside the ARP capture's addon) feeding the one binding
// tracker: a station's IPv4 and IPv6 addresses land in one table. IPv4 is what the watch is for on most
// LANs, so an ND capture that cannot open (no `cap`, a kernel without IPv6) is said once on stderr and
// the ARP watch goes on; it is tried again now and then, and at once after the interface comes back.
import { performance } from 'node:perf_hooks';
import { listAll } from '../../net/registrar';
import { CAPTURE_BUFFER_BYTES, openFrameSource, type FrameSource, type PacketStats } from '../../net/pcap';
import { NdSocket } from '../../net/nd-socket';
import type { NdCodecErrorCode } from '../../nd/codec';
import { readInterfaceState } from '../../net/interfaces';
import { describeInterfaceFault, interfaceFault } from '../../net/interface-fault';
import { BindingTracker, type WatchStats } from '../../watch/bindings';
import { defaultOuiDirectory } from '../../agent/oui-directory';
import { DecodedFrameCache } from '../../watch/frame-cache';
import type { WatchEvent } from '../../watch/events';
import type { WatchCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';
import { isIpv6Text } from '../../../preload/contract/ip-address';

const HELD_REFRESH_MS = 1000;
/** How often the watch looks at its interface (a re-created one or a new MAC raises no socket error). */
const INTERFACE_CHECK_MS = 250;
export const STATS_INTERVAL_MS = 1000;
/**
 * `cap`'s ring when the capture addon is not built: the default 32 MiB, ~256 slots of 128 KiB (see
 * CAPTURE_BUFFER_BYTES in pcap.ts; libpcap allocates twice that), 2.5 ms of a 100,000 frames/s flood. More
 * would cost kernel memory out of all proportion; with the addon (the normal case) the watch captures with
 * a 128-byte snaplen and a 16 MiB ring of ~70,000 frames instead.
 */
export const FALLBACK_BUFFER_BYTES = CAPTURE_BUFFER_BYTES;
/**
 * The capture's storm settings: repeats folded in the addon (a station asking again with the same MAC is
 * a count, not a frame for JavaScript) and, after a burst, the poll rested 4 ms — in a storm of 200,000
 * frames/s the watch wakes ~250 times a second instead of ~17,000, while a lone frame on a quiet LAN
 * still arrives at once. A frame waits at most ~4 ms longer in a storm.
 */
const CAPTURE_OPTIONS = { foldRepeats: true, pauseMs: 4 } as const;
/** After the ND capture failed to open: how long until it is tried again (each try opens a capture). */
const ND_RETRY_MS = 5000;

/** What the stats say of the ND capture: its counters (all its captures so far) and whether one is open. */
export interface NdCaptureReport {
  capture: PacketStats<NdCodecErrorCode>;
  capturing: boolean;
  /** Why no ND capture is open, when none is (the last failure to open one). */
  error: string | null;
}


/** The human line of one event (exported for its test). */
export function describe(event: WatchEvent): string {
  switch (event.type) {
    case 'new-station': return `new station ${event.ip} is-at ${event.mac}${event.vendor ? ` (${event.vendor})` : ''}`;
    case 'changed-mac': return `changed ${event.ip}: ${event.oldMac} -> ${event.newMac}`;
    case 'flip-flop': return `flip-flop ${event.ip}: ${event.macs.join(' <-> ')}`;
    case 'duplicate-address': return `duplicate address ${event.ip}: ${event.macs.join(', ')}`;
    case 'gratuitous': return event.form === 'advertisement' ? `unsolicited advertisement ${event.ip} is-at ${event.mac}` : `gratuitous ${event.form} ${event.ip} is-at ${event.mac}`;
    case 'probe': return `${isIpv6Text(event.targetIp) ? 'DAD probe' : 'probe'} for ${event.targetIp} from ${event.mac}`;
    case 'conflict': return `CONFLICT ${event.ip}: ${event.theirMac} claims an address this host holds${event.ourMac ? ` (ours: ${event.ourMac})` : ''}`;
    case 'storm-start': return `ARP/ND storm: ${event.rate} frames/s`;
    case 'storm-end': return `ARP/ND storm over: ${event.rate} frames/s`;
  }
}

/**
 * The `stats` record (pure: counters in, JSON-safe object out). The top-level counters are the ARP
 * capture's, as before ND; `nd` adds the ND capture's and what the tracker made of its frames.
 */
export function statsRecord(dev: string, at: number, capture: PacketStats, watch: WatchStats, final: boolean, nd?: NdCaptureReport): Record<string, unknown> {
  const record: Record<string, unknown> = {
    event: 'stats',
    time: isoTime(at),
    dev,
    final,
    received: capture.received,
    decoded: capture.decoded,
    malformed: capture.malformed,
    malformedByCode: { ...capture.malformedByCode },
    kernelReceived: capture.kernelReceived,
    kernelDropped: capture.kernelDropped,
    bindings: watch.bindings,
    evictions: watch.evictions,
    storming: watch.storming,
  };
  if (nd !== undefined) {
    record.nd = {
      capturing: nd.capturing,
      error: nd.error,
      received: nd.capture.received,
      decoded: nd.capture.decoded,
      malformed: nd.capture.malformed,
      malformedByCode: { ...nd.capture.malformedByCode },
      kernelReceived: nd.capture.kernelReceived,
      kernelDropped: nd.capture.kernelDropped,
      byKind: { ...watch.nd.byKind },
      offLink: watch.nd.offLink,
    };
  }
  return record;
}

function kernelText(capture: PacketStats<string>): string {
  return capture.kernelDropped === null ? 'kernel drops: unknown (capture addon not built)' : `kernel drops: ${capture.kernelDropped} of ${capture.kernelReceived}`;
}

function malformedText(capture: PacketStats<string>): string {
  const reasons = Object.entries(capture.malformedByCode).map(([code, n]) => `${code} ${n}`).join(', ');
  return `malformed: ${capture.malformed}${reasons ? ` (${reasons})` : ''}`;
}

export function statsLine(capture: PacketStats, watch: WatchStats, nd?: NdCaptureReport): string {
  const arp = `frames: ${capture.received}, ${malformedText(capture)}, ${kernelText(capture)}, bindings: ${watch.bindings}`;
  if (nd === undefined) return arp;
  if (!nd.capturing && nd.capture.received === 0) return `${arp}; ND: not captured${nd.error ? ` (${nd.error})` : ''}`;
  return `${arp}; ND frames: ${nd.capture.received}, ${malformedText(nd.capture)}, ${kernelText(nd.capture)}, off-link: ${watch.nd.offLink}`;
}

/** Counters of a capture that was closed, added into the running totals (a watch outlives its captures). */
function addStats<C extends string>(total: PacketStats<C>, closed: PacketStats<C>): void {
  total.received += closed.received;
  total.decoded += closed.decoded;
  total.malformed += closed.malformed;
  total.sent += closed.sent;
  for (const [code, n] of Object.entries(closed.malformedByCode) as Array<[C, number]>) {
    total.malformedByCode[code] = (total.malformedByCode[code] ?? 0) + n;
  }
  if (closed.kernelReceived !== null) total.kernelReceived = (total.kernelReceived ?? 0) + closed.kernelReceived;
  if (closed.kernelDropped !== null) total.kernelDropped = (total.kernelDropped ?? 0) + closed.kernelDropped;
}

function combinedStats<C extends string>(earlier: PacketStats<C>, current: PacketStats<C> | null): PacketStats<C> {
  const total: PacketStats<C> = { ...earlier, malformedByCode: { ...earlier.malformedByCode } };
  if (current) addStats(total, current);
  // A capture that cannot read the kernel's counters (no capture addon) makes the totals unknown, not 0.
  if (current && (current.kernelReceived === null || current.kernelDropped === null)) {
    total.kernelReceived = null;
    total.kernelDropped = null;
  }
  return total;
}

export async function watchCommand(command: WatchCommand): Promise<number> {
  const out = createOutput(command.json);
  const dev = command.dev;
  const decode = new DecodedFrameCache().decode;
  let socket: FrameSource | null = openFrameSource(dev, FALLBACK_BUFFER_BYTES, { decode, ...CAPTURE_OPTIONS });
  let ownMac = socket.iface.mac;
  const tracker = new BindingTracker({ ownMacs: [ownMac], vendorOf: defaultOuiDirectory().vendorOf });
  const wallOffset = performance.timeOrigin;
  /** Counters of the captures closed so far (after an interface fault the watch opens a new one). */
  const earlier: PacketStats = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  const ndEarlier: PacketStats<NdCodecErrorCode> = { received: 0, decoded: 0, malformed: 0, malformedByCode: {}, sent: 0, kernelReceived: 0, kernelDropped: 0 };
  let nd: NdSocket | null = null;
  let ndError: string | null = null;
  let ndRetryAt = 0;
  // Every address on the interface is one this host holds: refresh the set as addresses come and go.
  const refreshHeld = (): void => {
    const held = new Map<string, string | null>(command.held.map((ip) => [ip, ownMac]));
    try {
      // Both families, IPv6 link-local too: a station advertising one of them is a conflict.
      for (const address of listAll(dev, 'both')) held.set(address.ip, ownMac);
    } catch {
      // The interface is gone for now: keep what the operator named.
    }
    tracker.setHeld(held);
  };
  refreshHeld();
  const refresher = setInterval(refreshHeld, HELD_REFRESH_MS);
  const emit = (event: WatchEvent): void => {
    const { type, at, ...fields } = event;
    const wall = isoTime(wallOffset + at);
    out.record({ event: type, time: wall, dev, ...fields }, `${wall} ${describe(event)}`);
  };
  const announce = (type: 'interface-lost' | 'interface-back', text: string, fields: Record<string, unknown> = {}): void => {
    if (command.json) out.record({ event: type, time: isoTime(Date.now()), dev, detail: text, ...fields }, text);
    process.stderr.write(`ipfo watch: ${text}\n`);
  };
  const wire = (capture: FrameSource): void => {
    // The per-frame path: observe() allocates nothing unless the frame makes an event.
    capture.on('frame', ({ frame, mono }) => {
      const events = tracker.observe(mono, frame);
      for (let i = 0; i < events.length; i++) emit(events[i]!);
    });
    capture.on('repeats', ({ frame, mono, requests, replies }) => {
      const events = tracker.observeRepeats(mono, frame, requests, replies);
      for (let i = 0; i < events.length; i++) emit(events[i]!);
    });
    capture.on('lost', (error) => {
      if (socket !== capture) return;
      addStats(earlier, capture.stats);
      socket = null;
      closeNd();
      announce('interface-lost', `${error.message}; watching again when ${dev} is back`, { fault: 'capture-lost' });
    });
  };
  const closeNd = (): void => {
    if (nd === null) return;
    const stale = nd;
    nd = null;
    stale.refreshKernelStats();
    addStats(ndEarlier, stale.stats);
    stale.close();
    ndRetryAt = 0;
  };
  /** Opens the ND capture; a failure is said once (the ARP watch goes on without it) and retried later. */
  const openNd = (): void => {
    let opened: NdSocket;
    try {
      opened = NdSocket.open(dev);
    } catch (error) {
      const first = ndError === null;
      ndError = error instanceof Error ? error.message : String(error);
      ndRetryAt = performance.now() + ND_RETRY_MS;
      if (first) process.stderr.write(`ipfo watch: no IPv6 neighbour discovery capture on ${dev} (${ndError}); watching ARP only, trying again every ${ND_RETRY_MS / 1000} s\n`);
      return;
    }
    if (ndError !== null) process.stderr.write(`ipfo watch: capturing IPv6 neighbour discovery on ${dev} now\n`);
    ndError = null;
    nd = opened;
    // ND comes frame by frame (nothing folds it): one observeNd per frame.
    opened.on('frame', ({ frame, mono }) => {
      const events = tracker.observeNd(mono, frame);
      for (let i = 0; i < events.length; i++) emit(events[i]!);
    });
    opened.on('lost', () => {
      if (nd !== opened) return;
      addStats(ndEarlier, opened.stats);
      nd = null;
      // The ARP capture says whether the interface is gone; if it is not, the next look opens ND again.
      ndRetryAt = 0;
    });
  };
  wire(socket);
  openNd();
  // A capture can fail (interface down, deleted) or go stale without an error (re-created, new MAC):
  // look at the interface a few times a second, close a stale capture, and open a new one once it is usable.
  const keeper = setInterval(() => {
    const state = readInterfaceState(dev);
    const fault = interfaceFault(socket?.iface ?? null, state);
    if (socket !== null && fault !== null && fault.kind !== 'no-carrier') {
      const stale = socket;
      socket = null;
      stale.refreshKernelStats();
      addStats(earlier, stale.stats);
      stale.close();
      closeNd();
      announce('interface-lost', `${describeInterfaceFault(dev, fault)}; watching again when it is back`, { fault: fault.kind });
      return;
    }
    if (socket === null && fault === null) {
      try {
        socket = openFrameSource(dev, FALLBACK_BUFFER_BYTES, { decode, ...CAPTURE_OPTIONS });
      } catch {
        return; // not yet: the next look tries again
      }
      if (socket.iface.mac !== ownMac) tracker.addOwnMac(socket.iface.mac);
      ownMac = socket.iface.mac;
      wire(socket);
      refreshHeld();
      closeNd();
      openNd();
      announce('interface-back', `watching ARP${nd !== null ? ' and neighbour discovery' : ''} on ${dev} (${ownMac}) again`);
      return;
    }
    if (socket === null) return;
    // The ND capture on its own: one opened on an interface since re-created is stale too.
    const ndFault = nd === null ? null : interfaceFault(nd.iface, state);
    if (ndFault !== null && ndFault.kind !== 'no-carrier') closeNd();
    if (nd === null && performance.now() >= ndRetryAt) openNd();
  }, INTERFACE_CHECK_MS);
  const ndReport = (): NdCaptureReport => {
    nd?.refreshKernelStats();
    return { capture: combinedStats(ndEarlier, nd?.stats ?? null), capturing: nd !== null, error: nd === null ? ndError : null };
  };
  const reportStats = (final: boolean): void => {
    socket?.refreshKernelStats();
    const stats = combinedStats(earlier, socket?.stats ?? null);
    const ndStats = ndReport();
    out.record(statsRecord(dev, Date.now(), stats, tracker.stats(), final, ndStats), statsLine(stats, tracker.stats(), ndStats));
  };
  // tick() ends a storm that stopped dead; the stats record is for scripts (--json) only.
  const ticker = setInterval(() => {
    for (const event of tracker.tick(performance.now())) emit(event);
    if (command.json) reportStats(false);
  }, STATS_INTERVAL_MS);
  out.note(`watching ARP${nd !== null ? ' and IPv6 neighbour discovery' : ''} on ${command.dev} (${ownMac}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(refresher);
  clearInterval(ticker);
  clearInterval(keeper);
  reportStats(true);
  socket?.close();
  closeNd();
  return EXIT.ok;
}
