// Bench helper, run inside a lab node: holds one address through the real engine (AddressClaim over
// `cap` and netlink) and claims or releases it when told on stdin, so that the benchmark times the
// handoff itself rather than the start-up of a Node process.
//   stdin:  "claim" | "release" | "handoff" | "quit"
//   stdout: {"type":"opened"} once the capture is open, then {"type":"ready"|"released","wallMs":…} per command
// "handoff" releases and then tells the peer (--peer ip:port, a datagram over the LAN, as one agent tells
// another) to claim at once; a holder claims when such a datagram reaches its --listen port.
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { AddressClaim } from '../../main/engine/address-claim';
import { ArpSocket } from '../../main/net/pcap';
import { linuxRegistrar } from '../../main/cli/commands/claim';

const { values } = parseArgs({ options: { dev: { type: 'string', default: 'lan0' }, ip: { type: 'string' }, prefix: { type: 'string', default: '24' }, peer: { type: 'string' }, listen: { type: 'string', default: '7100' } } });
if (values.ip === undefined) throw new Error('--ip is required');
const ip = values.ip;
const prefix = Number(values.prefix);
const socket = ArpSocket.open(values.dev);
const say = (record: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(record)}\n`);
const wallNow = (): number => performance.timeOrigin + performance.now();

let claim: AddressClaim | null = null;
const peerSocket = createSocket('udp4');
const [peerIp, peerPort] = (values.peer ?? ':').split(':');

function startClaim(): void {
  claim = new AddressClaim({ ip, prefix, socket, registrar: linuxRegistrar, config: { skipProbe: true, announceCount: 2, announceIntervalMs: 1000 } });
  claim.on('event', (event) => {
    if (event.type === 'ready') say({ type: 'ready', wallMs: performance.timeOrigin + event.at });
    if (event.type === 'down') say({ type: 'released', wallMs: performance.timeOrigin + event.at });
  });
  claim.start();
}

function release(): void {
  if (claim) claim.stop();
  else say({ type: 'released', wallMs: wallNow() });
  claim = null;
}

peerSocket.on('message', () => startClaim());
peerSocket.bind(Number(values.listen));

createInterface({ input: process.stdin }).on('line', (line) => {
  switch (line.trim()) {
    case 'claim':
      startClaim();
      break;
    case 'release':
      release();
      break;
    case 'handoff':
      release();
      peerSocket.send('claim', Number(peerPort), peerIp);
      break;
    case 'quit':
      claim?.stop();
      socket.close();
      peerSocket.close();
      process.exit(0);
  }
});
say({ type: 'opened' });
