// The socket `ipfo claim` and `ipfo probe` work through: ARP for an IPv4 address; for an IPv6 one,
// neighbour discovery, listening to the address's solicited-node group (nd-socket.ts listenFor), so that
// another node's duplicate address detection probe for it reaches us before the kernel holds it.
import { NdSocket } from '../net/nd-socket';
import { ArpSocket } from '../net/pcap';

export function openClaimSocket(dev: string, ip: string): ArpSocket | NdSocket {
  if (!ip.includes(':')) return ArpSocket.open(dev);
  const socket = NdSocket.open(dev);
  try {
    socket.listenFor(ip);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}
