// Lab tool, run on a client: asks ARP for many addresses over and over and records, for each, the
// first moment it is answered the way the caller waits for — by one MAC (--want-mac M: "all back on
// n1") or by any MAC but one (--not-mac M: "all moved off n1") — until every address is, or
// --timeout-ms passes. Used to time the drain of a node holding 1,000 addresses.
//
//   node build/test/lab/tools/arp-sweep.js --targets-file F --from-ip A (--want-mac M | --not-mac M)
//        [--dev lan0] [--round-ms 100] [--burst 16] [--timeout-ms 60000]
//
// A round asks for every address not yet settled, --burst requests per millisecond; a round starts
// every --round-ms (or when the previous one has gone out, if that takes longer). Small bursts
// because the replies come back as a burst too, and a capture opened through `cap` holds only 32
// frames between two reads (snaplen 65535 in a 4 MB ring, main/net/pcap.ts): the 33rd reply of a
// burst is lost before this process can read it. What counts
// as an answer from a station: any ARP frame whose sender IP is the address (a reply to our request,
// or the gratuitous announcement a new owner sends the moment it has registered the address — the
// kernel answers requests from then on). Kinds are counted apart in the summary.
//
// stdout, one JSON object per line:
//   {"type":"ready",...}  capture open, first round about to start
//   {"type":"done",...}   on exit: per-address settle times (wall ms, null while unsettled), counts
// Stops on convergence, --timeout-ms, SIGTERM/SIGINT, or stdin closing (when it is a pipe).
import { fstatSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { request } from '../../../main/arp/codec';
import type { ArpFrame } from '../../../main/arp/frame';
import { ArpSocket } from '../../../main/net/pcap';
import { positive, wallNow, writeLine } from './tool-io';

type StopReason = 'converged' | 'timeout' | 'signal' | 'stdin';

interface Settled {
  atWallMs: number;
  mac: string;
  kind: 'reply' | 'gratuitous' | 'other';
}

function kindOf(frame: ArpFrame, ownMac: string): Settled['kind'] {
  if (frame.arp.senderIp === frame.arp.targetIp) return 'gratuitous';
  if (frame.arp.op === 'reply' && frame.arp.targetMac === ownMac) return 'reply';
  return 'other';
}

function main(): void {
  const { values } = parseArgs({
    options: {
      dev: { type: 'string', default: 'lan0' },
      'targets-file': { type: 'string' },
      'from-ip': { type: 'string' },
      'want-mac': { type: 'string' },
      'not-mac': { type: 'string' },
      'round-ms': { type: 'string' },
      burst: { type: 'string' },
      'timeout-ms': { type: 'string' },
    },
  });
  if (values['targets-file'] === undefined) throw new Error('--targets-file is required');
  if (values['from-ip'] === undefined) throw new Error('--from-ip is required');
  const wantMac = values['want-mac']?.toLowerCase();
  const notMac = values['not-mac']?.toLowerCase();
  if ((wantMac === undefined) === (notMac === undefined)) throw new Error('give exactly one of --want-mac and --not-mac');
  const roundMs = positive('round-ms', values['round-ms'], 100);
  const burst = Math.ceil(positive('burst', values.burst, 16));
  const timeoutMs = positive('timeout-ms', values['timeout-ms'], 60_000);
  const targets = readFileSync(values['targets-file'], 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const index = new Map(targets.map((ip, i) => [ip, i]));
  const settled: Array<Settled | null> = targets.map(() => null);
  const lastMac: Array<string | null> = targets.map(() => null);
  const settles = (mac: string): boolean => (wantMac !== undefined ? mac === wantMac : mac !== notMac);

  const socket = ArpSocket.open(values.dev);
  // Requests leave through a second handle that captures nothing (see mac-witness): the capture
  // handle then sees only what others send.
  const sender = ArpSocket.open(values.dev, 'less 1');
  const ownMac = socket.iface.mac;
  const fromIp = values['from-ip'];
  const requests = targets.map((ip) => request(ownMac, fromIp, ip));
  const startWallMs = wallNow();
  let pendingCount = targets.length;
  let rounds = 0;
  let requestsSent = 0;
  let framesSeen = 0;
  /** Frames from a non-settling MAC for an address already settled (e.g. the old owner still answering). */
  let contraryAfterSettle = 0;
  const settledKinds = { reply: 0, gratuitous: 0, other: 0 };
  const settledByMac: Record<string, number> = {};
  let finished = false;

  socket.on('frame', ({ frame, at }) => {
    const i = index.get(frame.arp.senderIp);
    if (i === undefined || frame.arp.senderMac === ownMac) return;
    framesSeen += 1;
    const mac = frame.arp.senderMac;
    lastMac[i] = mac;
    if (!settles(mac)) {
      if (settled[i] !== null) contraryAfterSettle += 1;
      return;
    }
    if (settled[i] !== null) return;
    const kind = kindOf(frame, ownMac);
    settled[i] = { atWallMs: at, mac, kind };
    settledKinds[kind] += 1;
    settledByMac[mac] = (settledByMac[mac] ?? 0) + 1;
    pendingCount -= 1;
    if (pendingCount === 0) finish('converged');
  });

  let sendTimer: NodeJS.Timeout | null = null;
  let roundTimer: NodeJS.Timeout | null = null;
  const round = (): void => {
    if (finished) return;
    rounds += 1;
    const startedAt = performance.now();
    const pending = requests.filter((_, i) => settled[i] === null);
    let next = 0;
    const sendBurst = (): void => {
      if (finished) return;
      const end = Math.min(pending.length, next + burst);
      for (; next < end; next += 1) {
        sender.send(pending[next]!);
        requestsSent += 1;
      }
      if (next < pending.length) sendTimer = setTimeout(sendBurst, 1);
      else roundTimer = setTimeout(round, Math.max(0, roundMs - (performance.now() - startedAt)));
    };
    sendBurst();
  };
  const timeoutTimer = setTimeout(() => finish('timeout'), timeoutMs);

  function finish(reason: StopReason): void {
    if (finished) return;
    finished = true;
    if (roundTimer !== null) clearTimeout(roundTimer);
    clearTimeout(timeoutTimer);
    if (sendTimer !== null) clearTimeout(sendTimer);
    const unsettled = targets.flatMap((ip, i) => (settled[i] === null ? [{ ip, lastMac: lastMac[i] }] : []));
    const times = settled.flatMap((s) => (s === null ? [] : [s.atWallMs]));
    writeLine({
      type: 'done',
      reason,
      startWallMs,
      endWallMs: wallNow(),
      targets: targets.length,
      settled: targets.length - unsettled.length,
      allSettledAtWallMs: unsettled.length === 0 && times.length > 0 ? Math.max(...times) : null,
      settledAtWallMs: settled.map((s) => (s === null ? null : Math.round(s.atWallMs * 1000) / 1000)),
      unsettledSample: unsettled.slice(0, 20),
      unsettledCount: unsettled.length,
      settledKinds,
      settledByMac,
      contraryAfterSettle,
      rounds,
      requestsSent,
      framesSeen,
    });
    sender.close();
    socket.close();
    process.exit(0);
  }

  process.on('SIGTERM', () => finish('signal'));
  process.on('SIGINT', () => finish('signal'));
  const stdin = fstatSync(0);
  if (stdin.isFIFO() || stdin.isSocket()) {
    process.stdin.on('error', () => undefined);
    process.stdin.on('end', () => finish('stdin'));
    process.stdin.resume();
  }
  writeLine({ type: 'ready', mac: ownMac, fromIp, targets: targets.length, wallMs: startWallMs });
  round();
}

main();
