// Lab tool, run on a client: the two-MAC witness of mac-witness for many addresses at once, for as
// long as a soak runs. Asks ARP for every address every --interval-ms (the requests spread evenly
// over the interval, a few per millisecond: a burst of 100 requests would draw 100 replies at once,
// more than a `cap` capture of an agent holds between two reads), and reports gaps and overlaps as
// it goes (witness-stream.ts) instead of every answer.
//
//   node build/test/lab/tools/multi-witness.js --targets-file F [--dev lan0] [--from-ip A]
//        [--interval-ms 20] [--gap-ms 100] [--wait-ms 100]
//
// stdout, one JSON object per line:
//   {"type":"ready",...}                      capture open, first round going out
//   {"type":"gap","ip":..,"fromWallMs":..,"toWallMs":..,"ms":..,"fromMac":..,"toMac":..}
//   {"type":"overlap","ip":..,"macs":[..],"fromWallMs":..,"toWallMs":..,"rules":[..],"evidence":n}
//   {"type":"stats",...}                      every 5 s: probes sent, frames, kernel drops
//   {"type":"summary",...}                    on exit: open gaps, answers per address, counters
// Stops on SIGTERM/SIGINT or stdin closing (when it is a pipe); waits --wait-ms for late replies.
// Receives through the project's capture addon (16 MiB ring, no loss at these rates) when built.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { request } from '../../../main/arp/codec';
import { ArpSocket, openFrameSource } from '../../../main/net/pcap';
import { WitnessStream } from './witness-stream';
import { onStopRequest, positive, wallNow, writeLine } from './tool-io';

const TICK_MS = 2;
const FLUSH_MS = 500;
const STATS_MS = 5000;

function primaryIpv4(dev: string): string {
  const found = networkInterfaces()[dev]?.find((entry) => entry.family === 'IPv4' && !entry.internal);
  if (found === undefined) throw new Error(`${dev} has no IPv4 address: pass --from-ip`);
  return found.address;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dev: { type: 'string', default: 'lan0' },
      'targets-file': { type: 'string' },
      'from-ip': { type: 'string' },
      'interval-ms': { type: 'string' },
      'gap-ms': { type: 'string' },
      'wait-ms': { type: 'string' },
    },
  });
  if (values['targets-file'] === undefined) throw new Error('--targets-file <one address per line> is required');
  const targets = readFileSync(values['targets-file'], 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (targets.length === 0) throw new Error('--targets-file lists no address');
  const intervalMs = positive('interval-ms', values['interval-ms'], 20);
  const gapMs = positive('gap-ms', values['gap-ms'], 100);
  const waitMs = positive('wait-ms', values['wait-ms'], 100);

  const capture = openFrameSource(values.dev, 64 * 1024 * 1024);
  // A second handle sends: the capture sees its requests in wire order among the replies (as in
  // mac-witness); `less 1` matches no frame, so nothing queues up on the sending handle.
  const sender = ArpSocket.open(values.dev, 'less 1');
  const ownMac = capture.iface.mac;
  const ownIp = values['from-ip'] ?? primaryIpv4(values.dev);
  const startWallMs = wallNow();
  const stream = new WitnessStream(targets, { ownMac, ownIp, intervalMs, gapMs, startWallMs });
  const frames = new Map(targets.map((ip) => [ip, request(ownMac, ownIp, ip)]));
  let probesSent = 0;
  let probing = true;
  let finished = false;
  /** When probing stopped: an address is still silent at the end if it has not answered since well before then. */
  let probingStoppedWallMs = Number.NaN;

  const probe = (ip: string): void => {
    const frame = frames.get(ip);
    if (!probing || frame === undefined) return;
    sender.send(frame);
    probesSent += 1;
  };

  capture.on('frame', ({ frame, at }) => {
    const { probeNow, gap } = stream.observe(frame, at);
    if (gap !== null) writeLine({ type: 'gap', ...gap });
    if (probeNow !== null) probe(probeNow);
  });

  // Every address once per interval, in slices of TICK_MS: a few requests per tick.
  const perTick = Math.max(1, Math.ceil((targets.length * TICK_MS) / intervalMs));
  let cursor = 0;
  const tick = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      probe(targets[cursor]!);
      cursor = (cursor + 1) % targets.length;
    }
  }, TICK_MS);
  const flush = setInterval(() => {
    for (const overlap of stream.flush(wallNow())) writeLine({ type: 'overlap', ...overlap });
  }, FLUSH_MS);
  const stats = setInterval(() => {
    const s = capture.refreshKernelStats();
    writeLine({ type: 'stats', wallMs: wallNow(), probesSent, received: s.received, kernelDropped: s.kernelDropped });
  }, STATS_MS);

  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearInterval(flush);
    clearInterval(stats);
    const endWallMs = wallNow();
    const { overlaps, openGaps } = stream.finish(Number.isNaN(probingStoppedWallMs) ? endWallMs : probingStoppedWallMs);
    for (const overlap of overlaps) writeLine({ type: 'overlap', ...overlap });
    const s = capture.refreshKernelStats();
    writeLine({ type: 'summary', startWallMs, endWallMs, probesSent, openGaps, answers: stream.answerCounts(), received: s.received, kernelDropped: s.kernelDropped });
    sender.close();
    capture.close();
    process.exit(0);
  };
  const stop = (): void => {
    if (!probing) return finish();
    probing = false;
    probingStoppedWallMs = wallNow();
    clearInterval(tick);
    setTimeout(finish, waitMs);
  };
  onStopRequest(stop);
  writeLine({ type: 'ready', mac: ownMac, ip: ownIp, targets: targets.length, intervalMs, gapMs, wallMs: startWallMs });
}

main();
