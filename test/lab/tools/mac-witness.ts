// Lab tool, run on a client: records every MAC that answers ARP for one address,
// and provokes answers by asking for the address every --interval-ms (a plain
// broadcast request from the client's own MAC and address, so every station
// that holds the address replies to it). Used to show that a failover never
// has two stations answering for one address at once (see witness-log.ts for
// what counts as proof).
//
//   node build/test/lab/tools/mac-witness.js --ip 10.213.7.101 [--dev lan0]
//        [--from-ip <own address>] [--interval-ms 20] [--duration-ms N] [--wait-ms 50]
//
// Only ARP is evidence: udp-echo replies leave from the node's primary address,
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
import { ArpSocket } from '../../../main/net/pcap';
import { WitnessLog } from './witness-log';
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

  const socket = ArpSocket.open(values.dev);
  // Probes leave through a second handle: a packet socket never reads back what it sent
  // itself, but it does see what another socket sends, in wire order among the replies
  // (which WitnessLog needs to pair replies with requests). `less 1` matches no frame,
  // so nothing queues up on the sending handle.
  const sender = ArpSocket.open(values.dev, 'less 1');
  const ownMac = socket.iface.mac;
  const ownIp = values['from-ip'] ?? primaryIpv4(values.dev);
  const log = new WitnessLog({ address, ownMac, ownIp, intervalMs });
  const probeFrame = request(ownMac, ownIp, address);
  let probesSent = 0;
  let probing = true;
  let finished = false;

  const sendProbe = (): void => {
    if (!probing) return;
    sender.send(probeFrame);
    probesSent += 1;
  };

  socket.on('frame', ({ frame, at }) => {
    const { answer, probeNow } = log.observe(frame, at);
    if (answer !== null) writeLine({ type: 'answer', ...answer });
    if (probeNow) sendProbe();
  });

  const timer = setInterval(sendProbe, intervalMs);
  const finish = (): void => {
    if (finished) return;
    finished = true;
    writeLine({ ...log.summary(), probesSent });
    sender.close();
    socket.close();
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
  writeLine({ type: 'ready', mac: ownMac, ip: ownIp, address, intervalMs, wallMs: wallNow() });
}

main();
