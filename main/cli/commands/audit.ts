// `ipfo watch --audit <network>/<prefix> [--dev IF] [--every 1s] [--for D] [--json]`: addresses the cluster
// does not own (VIPs of keepalived, MetalLB, kube-vip next door). Every --every it asks for every address
// of the CIDR (plain requests from the interface's own address, as witness.ts asks and for the same reason:
// an ipfo node's pre-flight counts a stranger's probe for an address as a rival; questions only without one), paced by sweepPlan (a /24 in well under a second), and it listens to all ARP meanwhile; the
// binding tracker (main/watch/bindings.ts) finds the duplicates and flip-flops, the ledger (main/watch/audit.ts)
// keeps those of the CIDR, once per address and pair of MACs, with vendors.
//
// --json records: {"event":"start","time","cidr","dev","mac","from","addresses","everyMs","sweepMs"},
//   {"event":"duplicate"|"flip-flop","time","ip","macs","vendors"},
//   {"event":"summary","time","cidr","dev","sweeps","requests","stations","duplicates":[{ip,macs,vendors}],"flipFlops":[...],"exitCode"}
// Exit 5 (EXIT.doubleMac) when a duplicate was seen, else 0.
import { performance } from 'node:perf_hooks';
import { defaultOuiDirectory } from '../../agent/oui-directory';
import { ArpSocket, openFrameSource } from '../../net/pcap';
import { AuditLedger, sweepAddresses, sweepPlan, type AuditFinding } from '../../watch/audit';
import { BindingTracker } from '../../watch/bindings';
import { DecodedFrameCache } from '../../watch/frame-cache';
import type { AuditCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';
import { FALLBACK_BUFFER_BYTES } from './watch';
import { askFor, askingAddress, interfaceFor, withVendor } from './witness';
import { stopSignal } from '../stop-signal';

/** After the last sweep, how long late answers are still heard, ms. */
const LATE_ANSWER_MS = 200;

export async function auditCommand(command: AuditCommand): Promise<number> {
  const out = createOutput(command.json);
  const cidr = `${command.network}/${command.prefix}`;
  const dev = interfaceFor(command.dev, command.network, command.prefix, 'watch --audit');
  const vendorOf = defaultOuiDirectory().vendorOf;
  const addresses = sweepAddresses(command.network, command.prefix);
  const plan = sweepPlan(addresses.length, command.everyMs);
  const capture = openFrameSource(dev, FALLBACK_BUFFER_BYTES, { decode: new DecodedFrameCache().decode });
  let sender: ArpSocket;
  try {
    sender = ArpSocket.open(dev, 'less 1');
  } catch (error) {
    capture.close();
    throw error;
  }
  const ownMac = capture.iface.mac;
  const ownIp = askingAddress(dev, command.network);
  const tracker = new BindingTracker({ ownMacs: [ownMac], vendorOf });
  const ledger = new AuditLedger(command.network, command.prefix, vendorOf);
  const wall = (mono: number): string => isoTime(performance.timeOrigin + mono);
  const report = (finding: AuditFinding): void => {
    const macs = finding.macs.map((mac, i) => withVendor(mac, finding.vendors[i] ?? null));
    out.record(
      { event: finding.type, time: wall(finding.at), ip: finding.ip, macs: finding.macs, vendors: finding.vendors },
      finding.type === 'duplicate' ? `${wall(finding.at)} DUPLICATE ${finding.ip}: answered by ${macs.join(' and ')}` : `${wall(finding.at)} flip-flop ${finding.ip}: ${macs.join(' <-> ')}`,
    );
  };
  const failure: { error: Error | null } = { error: null };
  const { stop, ended } = stopSignal(command.forMs);
  capture.on('frame', ({ frame, mono }) => {
    const events = tracker.observe(mono, frame);
    for (let i = 0; i < events.length; i++) for (const finding of ledger.observe(events[i]!)) report(finding);
  });
  capture.on('lost', (error) => {
    failure.error = error;
    stop();
  });

  // The sweep: a batch per tick; a new sweep every --every, or as soon as the last one ended when it took longer.
  let sweeps = 0;
  let requests = 0;
  let next = 0;
  let sweepStartedAt = performance.now();
  let sweeping = true;
  const sweeper = setInterval(() => {
    const now = performance.now();
    if (!sweeping) {
      if (now - sweepStartedAt < command.everyMs) return;
      sweeping = true;
      sweepStartedAt = now;
      next = 0;
    }
    try {
      for (let sent = 0; sent < plan.batch && next < addresses.length; sent++, next++) {
        sender.send(askFor(ownMac, ownIp, addresses[next]!));
        requests += 1;
      }
    } catch (error) {
      failure.error = error instanceof Error ? error : new Error(String(error));
      stop();
      return;
    }
    if (next >= addresses.length) {
      sweeping = false;
      sweeps += 1;
    }
  }, plan.tickMs);
  const ticker = setInterval(() => {
    for (const event of tracker.tick(performance.now())) for (const finding of ledger.observe(event)) report(finding);
  }, 1000);
  out.record(
    { event: 'start', time: isoTime(Date.now()), cidr, dev, mac: ownMac, from: ownIp, addresses: addresses.length, everyMs: command.everyMs, sweepMs: plan.sweepMs },
    `auditing ${cidr} on ${dev} (${ownMac}): ${addresses.length} addresses swept every ${command.everyMs} ms (${plan.sweepMs} ms a sweep)${command.forMs === null ? '; Ctrl-C to stop' : ''}`,
  );
  await ended;
  clearInterval(sweeper);
  if (failure.error === null) await new Promise((resolve) => setTimeout(resolve, LATE_ANSWER_MS));
  clearInterval(ticker);
  capture.close();
  sender.close();
  if (failure.error !== null) throw failure.error;

  const summary = ledger.summary();
  const exitCode = summary.duplicates.length > 0 ? EXIT.doubleMac : EXIT.ok;
  const listed = (entries: typeof summary.duplicates): string => entries.map((entry) => `${entry.ip}: ${entry.macs.map((mac, i) => withVendor(mac, entry.vendors[i] ?? null)).join(', ')}`).join('; ');
  out.record(
    { event: 'summary', time: isoTime(Date.now()), cidr, dev, sweeps, requests, stations: summary.stations, duplicates: summary.duplicates, flipFlops: summary.flipFlops, exitCode },
    `summary: ${sweeps} sweeps of ${cidr} (${requests} requests), ${summary.stations} addresses claimed, ` +
      `${summary.duplicates.length} duplicate${summary.duplicates.length === 1 ? '' : 's'}${summary.duplicates.length > 0 ? ` (${listed(summary.duplicates)})` : ''}, ` +
      `${summary.flipFlops.length} flip-flop${summary.flipFlops.length === 1 ? '' : 's'}${summary.flipFlops.length > 0 ? ` (${listed(summary.flipFlops)})` : ''}`,
  );
  return exitCode;
}
