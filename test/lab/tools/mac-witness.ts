// Lab tool, run on a client: records every MAC that answers ARP for one address,
// and provokes answers by asking for the address every --interval-ms (a plain
// broadcast request from the client's own MAC and address, so every station
// that holds the address replies to it). Used to show that a failover never
// has two stations answering for one address at once (see witness-log.ts for
// what counts as proof).
//
// For an IPv6 --ip (one with a ':') the same over neighbour discovery: the
// question is a neighbour solicitation from the client's own global address to
// the address's solicited-node group (every holder has joined it and answers),
// and every neighbour advertisement for the address is an answer, solicited or
// not (an unsolicited one is the IPv6 gratuitous ARP).
//
//   node build/test/lab/tools/mac-witness.js --ip 10.213.7.101 [--dev lan0]
//        [--from-ip <own address>] [--interval-ms 20] [--duration-ms N] [--wait-ms 50]
//
// --from-ip defaults to the device's first IPv4 address (IPv6: its first
// address that is not link-local).
// Only ARP/ND is evidence: udp-echo replies leave from the node's primary address,
// so a UDP reply says nothing about who holds the virtual one.
// stdout, one JSON object per line:
//   {"type":"ready",...}   capture open, first probe sent
//   {"type":"answer","mac":..,"kind":..,"request":..,"wallMs":..}  every answer
//   {"type":"summary",...} on exit (WitnessSummary plus probesSent)
// Stops on --duration-ms, SIGTERM/SIGINT, or stdin closing (when stdin is a
// pipe, so a parent that dies stops the witness); waits --wait-ms for late
// replies first.
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';
import { request } from '../../../main/arp/codec';
import { canonicalIpv6, isLinkLocalIpv6 } from '../../../main/nd/addresses';
import { buildSolicitation } from '../../../main/nd/builders';
import { NdSocket } from '../../../main/net/nd-socket';
import { ArpSocket } from '../../../main/net/pcap';
import { WitnessLog, type Observation } from './witness-log';
import { onStopRequest, wallNow, writeLine } from './tool-io';

function nonNegative(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} wants a non-negative number, got "${text}"`);
  return value;
}

function primaryIpv4(dev: string): string {
  const found = networkInterfaces()[dev]?.find((entry) => entry.family === 'IPv4' && !entry.internal);
  if (found === undefined) throw new Error(`${dev} has no IPv4 address: pass --from-ip`);
  return found.address;
}

function primaryIpv6(dev: string): string {
  const found = networkInterfaces()[dev]?.find((entry) => entry.family === 'IPv6' && !entry.internal && !isLinkLocalIpv6(canonicalIpv6(entry.address)));
  if (found === undefined) throw new Error(`${dev} has no IPv6 address that is not link-local: pass --from-ip`);
  return found.address;
}

/** The two handles of one protocol: a capture of everything, and a sender (whose frames the capture sees). */
interface WitnessWire {
  ownMac: string;
  ownIp: string;
  address: string;
  /** Feeds every captured frame to `log` and hands over what it made of it. */
  listen(log: WitnessLog, onObservation: (observation: Observation) => void): void;
  sendProbe(): void;
  close(): void;
}

/**
 * Probes leave through a second handle: a packet socket never reads back what it sent
 * itself, but it does see what another socket sends, in wire order among the replies
 * (which WitnessLog needs to pair replies with requests). `less 1` matches no frame,
 * so nothing queues up on the sending handle.
 */
function openArp(dev: string, address: string, fromIp: string | undefined): WitnessWire {
  const socket = ArpSocket.open(dev);
  const sender = ArpSocket.open(dev, 'less 1');
  const ownMac = socket.iface.mac;
  const ownIp = fromIp ?? primaryIpv4(dev);
  const probeFrame = request(ownMac, ownIp, address);
  return {
    ownMac,
    ownIp,
    address,
    listen: (log, onObservation) => {
      socket.on('frame', ({ frame, at }) => onObservation(log.observe(frame, at)));
    },
    sendProbe: () => sender.send(probeFrame),
    close: () => {
      sender.close();
      socket.close();
    },
  };
}

/** openArp over neighbour discovery: the question is a solicitation from ownIp to the address's solicited-node group. */
function openNd(dev: string, addressText: string, fromIp: string | undefined): WitnessWire {
  const address = canonicalIpv6(addressText);
  const socket = NdSocket.open(dev);
  const sender = NdSocket.open(dev, 'less 1');
  const ownMac = socket.iface.mac;
  const ownIp = canonicalIpv6(fromIp ?? primaryIpv6(dev));
  const probeFrame = buildSolicitation(ownMac, ownIp, address);
  return {
    ownMac,
    ownIp,
    address,
    listen: (log, onObservation) => {
      socket.on('frame', ({ frame, at }) => onObservation(log.observeNd(frame, at)));
    },
    sendProbe: () => sender.send(probeFrame),
    close: () => {
      sender.close();
      socket.close();
    },
  };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      ip: { type: 'string' },
      dev: { type: 'string', default: 'lan0' },
      'from-ip': { type: 'string' },
      'interval-ms': { type: 'string', default: '20' },
      'duration-ms': { type: 'string' },
      'wait-ms': { type: 'string', default: '50' },
    },
  });
  const address = values.ip;
  if (address === undefined) throw new Error('--ip <address to watch> is required');
  const intervalMs = nonNegative('interval-ms', values['interval-ms']) ?? 20;
  if (intervalMs <= 0) throw new Error('--interval-ms must be > 0');
  const durationMs = nonNegative('duration-ms', values['duration-ms']);
  const waitMs = nonNegative('wait-ms', values['wait-ms']) ?? 50;

  const wire = address.includes(':') ? openNd(values.dev, address, values['from-ip']) : openArp(values.dev, address, values['from-ip']);
  const { ownMac, ownIp } = wire;
  const log = new WitnessLog({ address: wire.address, ownMac, ownIp, intervalMs });
  let probesSent = 0;
  let probing = true;
  let finished = false;

  const sendProbe = (): void => {
    if (!probing) return;
    wire.sendProbe();
    probesSent += 1;
  };

  wire.listen(log, ({ answer, probeNow }) => {
    if (answer !== null) writeLine({ type: 'answer', ...answer });
    if (probeNow) sendProbe();
  });

  const timer = setInterval(sendProbe, intervalMs);
  const finish = (): void => {
    if (finished) return;
    finished = true;
    writeLine({ ...log.summary(), probesSent });
    wire.close();
    process.exit(0);
  };
  const stop = (): void => {
    if (!probing) return finish(); // a second stop request: report now
    probing = false;
    clearInterval(timer);
    setTimeout(finish, waitMs);
  };

  onStopRequest(stop);
  if (durationMs !== undefined) setTimeout(stop, durationMs);

  sendProbe();
  writeLine({ type: 'ready', mac: ownMac, ip: ownIp, address: wire.address, intervalMs, wallMs: wallNow() });
}

main();
