// `ipfo watch --dev <if>`: a live feed of ARP traffic on one interface.
//
// With --json, a `stats` record every STATS_INTERVAL_MS and one more at exit: frames received,
// decoded, malformed (by reason; counted and dropped, the watch goes on), the kernel's capture
// counters (libpcap's ps_recv / ps_drop: frames that passed the filter, and those lost because
// the capture ring was full) and the binding table's size. Without --json, one summary line at exit.
import { performance } from 'node:perf_hooks';
import { listAll } from '../../net/registrar';
import { CAPTURE_BUFFER_BYTES, openFrameSource, type PacketStats } from '../../net/pcap';
import { BindingTracker, type WatchStats } from '../../watch/bindings';
import { DecodedFrameCache } from '../../watch/frame-cache';
import type { WatchEvent } from '../../watch/events';
import type { WatchCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';

const HELD_REFRESH_MS = 1000;
export const STATS_INTERVAL_MS = 1000;
/**
 * `cap`'s ring when the capture addon is not built: the default 32 MiB, ~256 slots of 128 KiB (see
 * CAPTURE_BUFFER_BYTES in pcap.ts; libpcap allocates twice that), 2.5 ms of a 100,000 frames/s flood. More
 * would cost kernel memory out of all proportion; with the addon (the normal case) the watch captures with
 * a 128-byte snaplen and a 16 MiB ring of ~70,000 frames instead.
 */
export const FALLBACK_BUFFER_BYTES = CAPTURE_BUFFER_BYTES;

function describe(event: WatchEvent): string {
  switch (event.type) {
    case 'new-station': return `new station ${event.ip} is-at ${event.mac}${event.vendor ? ` (${event.vendor})` : ''}`;
    case 'changed-mac': return `changed ${event.ip}: ${event.oldMac} -> ${event.newMac}`;
    case 'flip-flop': return `flip-flop ${event.ip}: ${event.macs.join(' <-> ')}`;
    case 'duplicate-address': return `duplicate address ${event.ip}: ${event.macs.join(', ')}`;
    case 'gratuitous': return `gratuitous ${event.form} ${event.ip} is-at ${event.mac}`;
    case 'probe': return `probe for ${event.targetIp} from ${event.mac}`;
    case 'conflict': return `CONFLICT ${event.ip}: ${event.theirMac} claims an address this host holds${event.ourMac ? ` (ours: ${event.ourMac})` : ''}`;
    case 'storm-start': return `ARP storm: ${event.rate} frames/s`;
    case 'storm-end': return `ARP storm over: ${event.rate} frames/s`;
  }
}

/** The `stats` record (pure: counters in, JSON-safe object out). */
export function statsRecord(dev: string, at: number, capture: PacketStats, watch: WatchStats, final: boolean): Record<string, unknown> {
  return {
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
}

export function statsLine(capture: PacketStats, watch: WatchStats): string {
  const kernel = capture.kernelDropped === null ? 'kernel drops: unknown (capture addon not built)' : `kernel drops: ${capture.kernelDropped} of ${capture.kernelReceived}`;
  const reasons = Object.entries(capture.malformedByCode).map(([code, n]) => `${code} ${n}`).join(', ');
  return `frames: ${capture.received}, malformed: ${capture.malformed}${reasons ? ` (${reasons})` : ''}, ${kernel}, bindings: ${watch.bindings}`;
}

export async function watchCommand(command: WatchCommand): Promise<number> {
  const out = createOutput(command.json);
  const socket = openFrameSource(command.dev, FALLBACK_BUFFER_BYTES, { decode: new DecodedFrameCache().decode });
  const ownMac = socket.iface.mac;
  const tracker = new BindingTracker({ ownMacs: [ownMac] });
  const dev = command.dev;
  const wallOffset = performance.timeOrigin;
  // Every address on the interface is one this host holds: refresh the set as addresses come and go.
  const refreshHeld = (): void => {
    const held = new Map<string, string | null>(command.held.map((ip) => [ip, ownMac]));
    for (const address of listAll(command.dev)) held.set(address.ip, ownMac);
    tracker.setHeld(held);
  };
  refreshHeld();
  const refresher = setInterval(refreshHeld, HELD_REFRESH_MS);
  const emit = (event: WatchEvent): void => {
    const { type, at, ...fields } = event;
    const wall = isoTime(wallOffset + at);
    out.record({ event: type, time: wall, dev, ...fields }, `${wall} ${describe(event)}`);
  };
  // The per-frame path: observe() allocates nothing unless the frame makes an event.
  socket.on('frame', ({ frame, mono }) => {
    const events = tracker.observe(mono, frame);
    for (let i = 0; i < events.length; i++) emit(events[i]!);
  });
  const reportStats = (final: boolean): void => {
    socket.refreshKernelStats();
    out.record(statsRecord(dev, Date.now(), socket.stats, tracker.stats(), final), statsLine(socket.stats, tracker.stats()));
  };
  // tick() ends a storm that stopped dead; the stats record is for scripts (--json) only.
  const ticker = setInterval(() => {
    for (const event of tracker.tick(performance.now())) emit(event);
    if (command.json) reportStats(false);
  }, STATS_INTERVAL_MS);
  out.note(`watching ARP on ${command.dev} (${ownMac}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(refresher);
  clearInterval(ticker);
  reportStats(true);
  socket.close();
  return EXIT.ok;
}
