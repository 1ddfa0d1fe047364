// Lab tool, run on a client: prints every neighbour advertisement its interface receives (to all nodes,
// or to its own MAC: the unicast ones a straggler is told by), one JSON line each, so a test can tell
// which station told it what.
//   node nd-listen.js --dev lan0
// stdout: {"type":"ready"} once the capture is open, then
//   {"type":"na","dstMac":..,"srcMac":..,"src":..,"dst":..,"target":..,"targetLinkAddr":..,"solicited":..,"override":..,"wallMs":..}
// Stops on SIGTERM/SIGINT or stdin closing.
import { parseArgs } from 'node:util';
import { NdSocket } from '../../../main/net/nd-socket';
import { onStopRequest, wallNow, writeLine } from './tool-io';

const { values } = parseArgs({ options: { dev: { type: 'string', default: 'lan0' } } });

const socket = NdSocket.open(values.dev);
socket.on('frame', ({ frame }) => {
  if (frame.icmp.type !== 'na') return;
  const { target, targetLinkAddr, solicited, override } = frame.icmp;
  writeLine({ type: 'na', dstMac: frame.dstMac, srcMac: frame.srcMac, src: frame.ipv6.src, dst: frame.ipv6.dst, target, targetLinkAddr, solicited, override, wallMs: wallNow() });
});
writeLine({ type: 'ready' });
onStopRequest(() => {
  socket.close();
  process.exit(0);
});
