// The Linux host: addresses over rtnetlink (net/registrar.ts), interfaces from /sys, ARP through
// libpcap (`cap` for sockets that send, our capture addon for the standby's answers).
import { writeFileSync } from 'node:fs';
import { ArpCapture, ArpSocket, captureAddonAvailable } from '../net/pcap';
import { FrameTap } from '../net/frame-tap';
import { NdSocket } from '../net/nd-socket';
import { readInterfaceState } from '../net/interfaces';
import { deregister, listAll, listOwned, register, removeOwnedAnywhere } from '../net/registrar';
import { localMacs } from './linux-macs';
import { openDatagram } from './datagram';
import type { Host } from './host';
import { defaultGateway, runNetworkCheck } from './health-checks';

/** ARP replies to a probe (operation 2, target IP 0.0.0.0), tagged or not (`vlan` shifts what follows it). */
export const PROBE_ANSWER_FILTER = '(arp and arp[6:2] = 2 and arp[24:4] = 0) or (vlan and arp and arp[6:2] = 2 and arp[24:4] = 0)';

export const linuxHost: Host = {
  // Every change is one netlink round trip, done when the call returns: always settled, nothing fails later.
  addresses: { register, deregister, listAll, listOwned, removeOwnedAnywhere, settled: () => null, onLateFailure: () => () => undefined },
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
  openNd: (ifname) => NdSocket.open(ifname),
  openProbeAnswers: (ifname, bufferBytes) => (captureAddonAvailable() ? ArpCapture.open(ifname, { filter: PROBE_ANSWER_FILTER, bufferBytes }) : null),
  openDatagram,
  openFrameTap: (ifname, mac, onFrame, onLost) => FrameTap.open(ifname, mac, onFrame, onLost),
  runCheck: runNetworkCheck,
  defaultGateway: (ifname) => defaultGateway(ifname),
};
