// The Linux host: addresses over rtnetlink (net/registrar.ts), interfaces from /sys, ARP through
// libpcap (our capture addon for the agent's ARP socket and the standby's answers; `cap` without it, and for ND).
import { readFileSync, writeFileSync } from 'node:fs';
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

/** The agent's ARP ring: ~35,000 frames of 128 bytes, 0.18 s of a 200k frames/s storm. */
const AGENT_CAPTURE_BUFFER_BYTES = 8 * 1024 * 1024;

export const linuxHost: Host = {
  // Every change is one netlink round trip, done when the call returns: always settled, nothing fails later.
  addresses: { register, deregister, listAll, listOwned, removeOwnedAnywhere, settled: () => null, onLateFailure: () => () => undefined },
  interfaceState: readInterfaceState,
  macs: localMacs,
  prepareInterface(ifname) {
    // Linux drops every secondary address of a subnet with its primary unless this is on; a VIP may be that primary.
    const setting = `/proc/sys/net/ipv4/conf/${ifname}/promote_secondaries`;
    try {
      writeFileSync(setting, '1');
    } catch {
      // Not fatal: with the administrator's own address in the subnet, our addresses are never primaries.
    }
    try {
      return readFileSync(setting, 'utf8').trim() === '1';
    } catch {
      return false;
    }
  },
  // With the capture addon, one libpcap handle receives in batches (a storm's repeats folded, except from
  // the senders the claims and watchers listen to) and sends; without it, `cap`: one call per frame.
  openArp: (ifname) => (captureAddonAvailable() ? ArpCapture.open(ifname, { foldRepeats: true, pauseMs: 4, bufferBytes: AGENT_CAPTURE_BUFFER_BYTES }) : ArpSocket.open(ifname)),
  openNd: (ifname) => NdSocket.open(ifname),
  openProbeAnswers: (ifname, bufferBytes) => (captureAddonAvailable() ? ArpCapture.open(ifname, { filter: PROBE_ANSWER_FILTER, bufferBytes }) : null),
  openDatagram,
  openFrameTap: (ifname, mac, onFrame, onLost) => FrameTap.open(ifname, mac, onFrame, onLost),
  runCheck: runNetworkCheck,
  defaultGateway: (ifname) => defaultGateway(ifname),
};
