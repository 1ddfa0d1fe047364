// Lab tool: puts ARP frames on the wire from inside a namespace, as a rogue host or a test would.
//   node arp-send.js --dev lan0 --form announcement|gratuitous-reply|reply|probe --ip A [--to-mac M --to-ip B]
//                    [--count N] [--interval-ms N]
//   node arp-send.js --dev lan0 --raw <hex> [--count N]      (malformed frames, byte for byte)
import { parseArgs } from 'node:util';
import { announcement, gratuitousReply, probe, reply } from '../../../main/arp/codec';
import type { ArpFrame } from '../../../main/arp/frame';
import { ArpSocket } from '../../../main/net/pcap';
import { sendRepeatedly } from './tool-io';

const { values } = parseArgs({
  options: {
    dev: { type: 'string', default: 'lan0' },
    form: { type: 'string', default: 'announcement' },
    ip: { type: 'string' },
    'to-mac': { type: 'string' },
    'to-ip': { type: 'string' },
    raw: { type: 'string' },
    count: { type: 'string', default: '1' },
    'interval-ms': { type: 'string', default: '0' },
  },
});

const socket = ArpSocket.open(values.dev);
const own = socket.iface.mac;

function frameToSend(): ArpFrame {
  const ip = values.ip;
  if (ip === undefined) throw new Error('--ip is required');
  switch (values.form) {
    case 'announcement': return announcement(own, ip);
    case 'gratuitous-reply': return gratuitousReply(own, ip);
    case 'probe': return probe(own, ip);
    case 'reply': return reply(own, ip, values['to-mac'] ?? 'ff:ff:ff:ff:ff:ff', values['to-ip'] ?? ip);
    default: throw new Error(`unknown --form ${values.form}`);
  }
}

const count = Number(values.count);
const intervalMs = Number(values['interval-ms']);
const raw = values.raw === undefined ? null : Buffer.from(values.raw, 'hex');
const frame = raw === null ? frameToSend() : null;

sendRepeatedly(count, intervalMs, own, () => (raw !== null ? socket.sendRaw(raw) : socket.send(frame!)), () => socket.close());
