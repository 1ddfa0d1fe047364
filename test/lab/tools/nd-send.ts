// Lab tool: puts IPv6 neighbour discovery frames on the wire from inside a namespace, as a rogue host or
// a test would (the IPv6 twin of arp-send.ts).
//   node nd-send.js --dev lan0 --form na|dad|ns --ip TARGET [--from SOURCE] [--to-mac M] [--count N] [--interval-ms N]
//     na:  unsolicited advertisement "TARGET is at my MAC", override set, to all nodes (with --to-mac: to
//          that station's MAC only, still to ff02::1 — a rogue that talks to one node)
//     dad: duplicate address detection probe for TARGET, from ::
//     ns:  solicitation for TARGET from SOURCE (--from is required)
import { parseArgs } from 'node:util';
import { buildDadProbe, buildSolicitation, buildUnsolicitedAdvertisement } from '../../../main/nd/builders';
import type { NdFrame } from '../../../main/nd/frame';
import { NdSocket } from '../../../main/net/nd-socket';
import { sendRepeatedly } from './tool-io';

const { values } = parseArgs({
  options: {
    dev: { type: 'string', default: 'lan0' },
    form: { type: 'string', default: 'na' },
    ip: { type: 'string' },
    from: { type: 'string' },
    'to-mac': { type: 'string' },
    count: { type: 'string', default: '1' },
    'interval-ms': { type: 'string', default: '0' },
  },
});

const socket = NdSocket.open(values.dev);
const own = socket.iface.mac;

function frameToSend(): NdFrame {
  const ip = values.ip;
  if (ip === undefined) throw new Error('--ip is required');
  switch (values.form) {
    case 'na': {
      const frame = buildUnsolicitedAdvertisement(own, ip);
      return values['to-mac'] === undefined ? frame : { ...frame, dstMac: values['to-mac'].toLowerCase() };
    }
    case 'dad': return buildDadProbe(own, ip);
    case 'ns': {
      if (values.from === undefined) throw new Error('--form ns needs --from');
      return buildSolicitation(own, values.from, ip);
    }
    default: throw new Error(`unknown --form ${values.form}`);
  }
}

const count = Number(values.count);
const intervalMs = Number(values['interval-ms']);
const frame = frameToSend();

sendRepeatedly(count, intervalMs, own, () => socket.send(frame), () => socket.close());
