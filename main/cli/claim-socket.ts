// The socket `ipfo claim` and `ipfo probe` work through: ARP for an IPv4 address; for an IPv6 one,
// neighbour discovery plus membership of the address's solicited-node group (net/multicast-listener.ts),
// so that another node's duplicate address detection probe for it reaches us before the kernel holds it.
import { solicitedNodeAddress } from '../nd/addresses';
import { MulticastListener } from '../net/multicast-listener';
import { NdSocket } from '../net/nd-socket';
import { ArpSocket } from '../net/pcap';

export interface ClaimSocket {
  socket: ArpSocket | NdSocket;
  /** IPv6 only; the caller closes it with the socket. */
  listener: MulticastListener | null;
}

export async function openClaimSocket(dev: string, ip: string): Promise<ClaimSocket> {
  if (!ip.includes(':')) return { socket: ArpSocket.open(dev), listener: null };
  const socket = NdSocket.open(dev);
  let listener: MulticastListener | null = null;
  try {
    listener = await MulticastListener.open(dev);
    listener.join(solicitedNodeAddress(ip));
    return { socket, listener };
  } catch (error) {
    listener?.close();
    socket.close();
    throw error;
  }
}
