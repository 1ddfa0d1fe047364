// The Linux host: addresses over rtnetlink (net/registrar.ts), interfaces from /sys, ARP through
// libpcap (`cap` for sockets that send, our capture addon for the standby's answers).
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { ArpCapture, ArpSocket, captureAddonAvailable } from '../net/pcap';
import { FrameTap } from '../net/frame-tap';
import { readInterfaceState } from '../net/interfaces';
import { deregister, listAll, listOwned, register, removeOwnedAnywhere } from '../net/registrar';
import { localMacs } from './linux-macs';
import type { DatagramEndpoint, Host } from './host';

/** ARP replies to a probe (operation 2, target IP 0.0.0.0), tagged or not (`vlan` shifts what follows it). */
export const PROBE_ANSWER_FILTER = '(arp and arp[6:2] = 2 and arp[24:4] = 0) or (vlan and arp and arp[6:2] = 2 and arp[24:4] = 0)';

export const linuxHost: Host = {
  addresses: { register, deregister, listAll, listOwned, removeOwnedAnywhere },
  interfaceState: readInterfaceState,
  macs: localMacs,
  prepareInterface(ifname) {
    // Linux drops every secondary address of a subnet with its primary unless this is on; a VIP may be that primary.
    try {
      writeFileSync(`/proc/sys/net/ipv4/conf/${ifname}/promote_secondaries`, '1');
    } catch {
      // Not fatal: with the administrator's own address in the subnet, our addresses are never primaries.
    }
  },
  openArp: (ifname) => ArpSocket.open(ifname),
  openProbeAnswers: (ifname, bufferBytes) => (captureAddonAvailable() ? ArpCapture.open(ifname, { filter: PROBE_ANSWER_FILTER, bufferBytes }) : null),
  openDatagram,
  openFrameTap: (ifname, mac, onFrame, onLost) => FrameTap.open(ifname, mac, onFrame, onLost),
};

async function openDatagram(onMessage: (bytes: Buffer) => void, onError: (error: Error) => void): Promise<DatagramEndpoint> {
  const socket = createSocket('udp4');
  socket.on('message', (bytes) => onMessage(bytes));
  socket.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '0.0.0.0', () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;
  return { port, send: (bytes, to, address) => socket.send(bytes, to, address), close: () => socket.close() };
}
