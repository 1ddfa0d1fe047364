// `ipfo witness <ip> [--dev IF] [--every 20ms] [--for D] [--json]`: asks who answers for one address every
// --every and reports gaps, MAC changes and double-MAC moments (the reading is main/watch/witness-analysis.ts,
// pure; this file is the socket and the timers). The probes are plain ARP requests from the interface's own
// address (the one in the subnet of <ip> if there is one), as any client asks: an ipfo node's pre-flight of a
// move counts a stranger's RFC 5227 probe or question (sender 0.0.0.0) for the address as a rival about to
// claim it, and fails the move (seen in the lab: "conflict: <ip> answered by <the witness's MAC>"). Only an
// interface without any IPv4 address asks with questions (codec.question).
//
// --json records, one per line (times ISO 8601, lengths in ms with 0.01 ms precision):
//   {"event":"start","time","ip","dev","mac","from","everyMs"}           from: the address the probes ask from (null: 0.0.0.0)
//   {"event":"answering","time","ip","mac","vendor"}                      the first MAC that answered
//   {"event":"gap","ip","from","to","ms","missedProbes","fromStart","ongoing"}  probe intervals without an answer
//   {"event":"change","time","ip","from","to","fromVendor","toVendor","lastFromTime","gapMs","afterDoubleMac","probesBetween"}
//   {"event":"double-mac","time","ip","macs","vendors","rule"}            two MACs at once (rule: same-probe | interleaved)
//   {"event":"double-mac-end","ip","from","to","ms","macs","vendors","evidence"}
//   {"event":"summary","time","ip","dev","everyMs","probesSent","probesSeen","answers","macs","gaps",
//    "longestGapMs","maxProbeSpacingMs","changes","doubleMacMoments","verdict","exitCode"}
import { performance } from 'node:perf_hooks';
import { question, request } from '../../arp/codec';
import { sameSubnet } from '../../arp/addresses';
import type { ArpFrame } from '../../arp/frame';
import { chooseInterface, stationAddresses } from '../../agent/interface-choice';
import { defaultOuiDirectory } from '../../agent/oui-directory';
import { readInterface } from '../../net/interfaces';
import { ArpSocket } from '../../net/pcap';
import { listAll } from '../../net/registrar';
import { WitnessAnalysis, witnessInput, type WitnessEvent, type WitnessSummary } from '../../watch/witness-analysis';
import { withVendor } from '../../watch/oui';
import { UsageError, type WitnessCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';
import { stopSignal } from '../stop-signal';

/** After the last probe, how long late answers are still counted, ms. */
const LATE_ANSWER_MS = 50;

/** --dev, or the interface with an address in the subnet of `ip` (the agent's own rule, interface-choice.ts); checked to exist. */
export function interfaceFor(dev: string | null, ip: string, prefix: number, command: string): string {
  if (dev === null) {
    const choice = chooseInterface({ ip, prefix, interfaces: {} }, 'this host', listAll());
    if (!choice.ok) throw new UsageError(`${command}: no interface of this host has an address in the subnet of ${ip}; name one with --dev`);
    dev = choice.ifname;
  }
  readInterface(dev); // an unknown interface is bad input (exit 2), before anything is opened or sent
  return dev;
}

/** The witness's own address on `dev` to ask from: one in the subnet of `ip` first, else any; null when it has none. */
export function askingAddress(dev: string, ip: string): string | null {
  const own = stationAddresses(listAll(dev));
  return (own.find((address) => sameSubnet(address.ip, ip, address.prefix)) ?? own[0])?.ip ?? null;
}

/** The request the witness and the audit send for `target`: from `ownIp`, or a question when there is none. */
export function askFor(ownMac: string, ownIp: string | null, target: string): ArpFrame {
  return ownIp === null ? question(ownMac, target) : request(ownMac, ownIp, target);
}

export { withVendor };
const ms = (value: number): string => `${Math.round(value * 10) / 10} ms`;
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export function witnessExitCode(summary: Pick<WitnessSummary, 'verdict'>): number {
  if (summary.verdict === 'double-mac') return EXIT.doubleMac;
  if (summary.verdict === 'no-answer') return EXIT.noAnswer;
  return EXIT.ok;
}

export async function witnessCommand(command: WitnessCommand): Promise<number> {
  const out = createOutput(command.json);
  const ip = command.ip;
  const dev = interfaceFor(command.dev, ip, 32, 'witness');
  const vendorOf = defaultOuiDirectory().vendorOf;
  const capture = ArpSocket.open(dev);
  // The probes leave through a second handle so that the capture sees them in wire order among the
  // answers (a packet socket never reads what it sent itself); `less 1` matches nothing, so nothing queues there.
  let sender: ArpSocket;
  try {
    sender = ArpSocket.open(dev, 'less 1');
  } catch (error) {
    capture.close();
    throw error;
  }
  const ownMac = capture.iface.mac;
  const analysis = new WitnessAnalysis({ intervalMs: command.everyMs, vendorOf });
  const wall = (mono: number): string => isoTime(performance.timeOrigin + mono);

  const emit = (event: WitnessEvent): void => {
    switch (event.type) {
      case 'answering':
        out.record({ event: 'answering', time: wall(event.at), ip, mac: event.mac, vendor: event.vendor }, `${wall(event.at)} ${ip} answered by ${withVendor(event.mac, event.vendor)}`);
        return;
      case 'gap':
        out.record(
          { event: 'gap', ip, from: wall(event.from), to: wall(event.to), ms: event.ms, missedProbes: event.missedProbes, fromStart: event.fromStart, ongoing: event.ongoing },
          `${wall(event.from)} gap: no answer for ${ms(event.ms)} (${plural(event.missedProbes, 'probe', 'probes')} unanswered) ${event.fromStart ? 'from the start ' : ''}until ${wall(event.to)}${event.ongoing ? ', still silent at the end' : ''}`,
        );
        return;
      case 'change':
        out.record(
          { event: 'change', time: wall(event.at), ip, from: event.from, to: event.to, fromVendor: event.fromVendor, toVendor: event.toVendor, lastFromTime: wall(event.lastFromAt), gapMs: event.gapMs, afterDoubleMac: event.afterDoubleMac, probesBetween: event.probesBetween },
          `${wall(event.at)} change ${ip}: ${withVendor(event.from, event.fromVendor)} -> ${withVendor(event.to, event.toVendor)}${event.gapMs === null ? ' (after a double MAC)' : `, ${ms(event.gapMs)} between the last answer of the old MAC and the first of the new (${plural(event.probesBetween, 'probe', 'probes')} between)`}`,
        );
        return;
      case 'double-mac':
        out.record(
          { event: 'double-mac', time: wall(event.at), ip, macs: event.macs, vendors: event.vendors, rule: event.rule },
          `${wall(event.at)} DOUBLE MAC ${ip}: ${event.macs.map((mac, i) => withVendor(mac, event.vendors[i] ?? null)).join(' and ')} answered at once (${event.rule === 'same-probe' ? 'both replied to one probe' : 'answers interleaved within a probe interval'})`,
        );
        return;
      case 'double-mac-end':
        out.record(
          { event: 'double-mac-end', ip, from: wall(event.from), to: wall(event.to), ms: event.ms, macs: event.macs, vendors: event.vendors, evidence: event.evidence },
          `${wall(event.to)} double MAC over: ${event.macs.join(' and ')} for ${ms(event.ms)} (${plural(event.evidence, 'proof', 'proofs')})`,
        );
        return;
    }
  };
  const emitAll = (events: readonly WitnessEvent[]): void => {
    for (const event of events) emit(event);
  };

  const failure: { error: Error | null } = { error: null };
  const { stop, ended } = stopSignal(command.forMs);
  capture.on('frame', ({ frame, mono }) => {
    const input = witnessInput(frame, ip, ownMac);
    if (input === null) return;
    emitAll(input.kind === 'probe' ? analysis.probe(mono) : analysis.answer(mono, input.mac, input.answer));
  });
  capture.on('lost', (error) => {
    failure.error = error;
    stop();
  });

  const ownIp = askingAddress(dev, ip);
  const probe = askFor(ownMac, ownIp, ip);
  let probesSent = 0;
  const send = (): void => {
    try {
      sender.send(probe);
      probesSent += 1;
    } catch (error) {
      failure.error = error instanceof Error ? error : new Error(String(error));
      stop();
    }
  };
  out.record({ event: 'start', time: isoTime(Date.now()), ip, dev, mac: ownMac, from: ownIp, everyMs: command.everyMs }, `witnessing ${ip} on ${dev} (${ownMac}, asking from ${ownIp ?? '0.0.0.0'}), a probe every ${command.everyMs} ms${command.forMs === null ? '; Ctrl-C to stop' : ` for ${command.forMs} ms`}`);
  send();
  const prober = setInterval(send, command.everyMs);
  // Between probes nothing else moves the analysis' clock: a due change or end of a double MAC shows on time.
  const ticker = setInterval(() => emitAll(analysis.tick(performance.now())), Math.max(command.everyMs, 10));
  await ended;
  clearInterval(prober);
  if (failure.error === null) await new Promise((resolve) => setTimeout(resolve, LATE_ANSWER_MS));
  clearInterval(ticker);
  emitAll(analysis.finish(performance.now()));
  capture.close();
  sender.close();
  if (failure.error !== null) throw failure.error;

  const summary = analysis.summary();
  const exitCode = witnessExitCode(summary);
  const macs = summary.macs.map((entry) => ({ mac: entry.mac, vendor: entry.vendor, answers: entry.answers, first: wall(entry.firstAt), last: wall(entry.lastAt) }));
  const answeredBy = summary.macs.length === 0 ? 'never answered' : `answered by ${summary.macs.map((entry) => withVendor(entry.mac, entry.vendor)).join(', ')}`;
  out.record(
    {
      event: 'summary', time: isoTime(Date.now()), ip, dev, everyMs: command.everyMs, probesSent, probesSeen: summary.probes, answers: summary.answers,
      macs, gaps: summary.gaps, longestGapMs: summary.longestGapMs, maxProbeSpacingMs: summary.maxProbeSpacingMs, changes: summary.changes, doubleMacMoments: summary.doubleMacMoments,
      verdict: summary.verdict, exitCode,
    },
    `summary: ${plural(probesSent, 'probe', 'probes')} sent, ${plural(summary.answers, 'answer', 'answers')}, longest gap ${ms(summary.longestGapMs)} (${plural(summary.gaps, 'gap', 'gaps')}; probes at most ${ms(summary.maxProbeSpacingMs)} apart), ${plural(summary.changes, 'MAC change', 'MAC changes')}, ${plural(summary.doubleMacMoments, 'double-MAC moment', 'double-MAC moments')}; ${answeredBy}`,
  );
  return exitCode;
}
