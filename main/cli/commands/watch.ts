// `ipfo watch --dev <if>`: a live feed of ARP traffic on one interface.
import { listAll } from '../../net/registrar';
import { ArpSocket } from '../../net/pcap';
import { BindingTracker } from '../../watch/bindings';
import type { WatchEvent } from '../../watch/events';
import type { WatchCommand } from '../args';
import { EXIT } from '../exit-codes';
import { createOutput, isoTime } from '../output';

const HELD_REFRESH_MS = 1000;

function describe(event: WatchEvent): string {
  switch (event.type) {
    case 'new-station': return `new station ${event.ip} is-at ${event.mac}${event.vendor ? ` (${event.vendor})` : ''}`;
    case 'changed-mac': return `changed ${event.ip}: ${event.oldMac} -> ${event.newMac}`;
    case 'flip-flop': return `flip-flop ${event.ip}: ${event.macs.join(' <-> ')}`;
    case 'duplicate-address': return `duplicate address ${event.ip}: ${event.macs.join(', ')}`;
    case 'gratuitous': return `gratuitous ${event.form} ${event.ip} is-at ${event.mac}`;
    case 'probe': return `probe for ${event.targetIp} from ${event.mac}`;
    case 'conflict': return `CONFLICT ${event.ip}: ${event.theirMac} claims an address this host holds${event.ourMac ? ` (ours: ${event.ourMac})` : ''}`;
    case 'storm-start': return `ARP storm: ${event.rate} frames/s`;
    case 'storm-end': return `ARP storm over: ${event.rate} frames/s`;
  }
}

export async function watchCommand(command: WatchCommand): Promise<number> {
  const out = createOutput(command.json);
  const socket = ArpSocket.open(command.dev);
  const ownMac = socket.iface.mac;
  const tracker = new BindingTracker({ ownMacs: [ownMac] });
  // Every address on the interface is one this host holds: refresh the set as addresses come and go.
  const refreshHeld = (): void => {
    const held = new Map<string, string | null>(command.held.map((ip) => [ip, ownMac]));
    for (const address of listAll(command.dev)) held.set(address.ip, ownMac);
    tracker.setHeld(held);
  };
  refreshHeld();
  const refresher = setInterval(refreshHeld, HELD_REFRESH_MS);
  socket.on('frame', ({ frame, at, mono }) => {
    for (const event of tracker.observe(mono, frame)) {
      const { type, at: _eventTime, ...fields } = event;
      out.record({ event: type, time: isoTime(at), dev: command.dev, ...fields }, `${isoTime(at)} ${describe(event)}`);
    }
  });
  out.note(`watching ARP on ${command.dev} (${ownMac}); Ctrl-C to stop`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(refresher);
  out.note(`frames: ${socket.stats.received}, malformed: ${socket.stats.malformed}`);
  socket.close();
  return EXIT.ok;
}
