// IPv6 neighbour discovery on the wire, as ArpSocket is ARP: a `cap` capture of neighbour solicitations
// and advertisements (tagged or not) that also sends them, decoded and encoded by nd/codec.ts, and the
// memberships of the solicited-node groups its claims listen to (net/multicast-listener.ts).
import { solicitedNodeAddress } from '../nd/addresses';
import { decode, encode, NdCodecError } from '../nd/codec';
import type { Ipv6, NdFrame } from '../nd/frame';
import type { InterfaceInfo } from './interfaces';
import { MulticastListener } from './multicast-listener';
import { CAPTURE_BUFFER_BYTES, FrameSocket, type FrameCodec, type FrameSocketEvents } from './pcap';

/**
 * ICMPv6 types 135 (solicitation) and 136 (advertisement), tagged or not. `ip6[40]` is the first byte
 * after the fixed IPv6 header, the ICMPv6 type, because `icmp6` matches only when ICMPv6 is the next
 * header (ND never carries extension headers; the codec refuses them too). As in ARP_FILTER, the `vlan`
 * half comes second: `vlan` shifts the offsets of what follows it.
 */
export const ND_FILTER =
  '(icmp6 and (ip6[40] == 135 or ip6[40] == 136)) or (vlan and icmp6 and (ip6[40] == 135 or ip6[40] == 136))';

export const ND_CODEC: FrameCodec<NdFrame, NdCodecError> = {
  decode,
  encode,
  isCodecError: (error): error is NdCodecError => error instanceof NdCodecError,
};

export type NdSocketEvents = FrameSocketEvents<NdFrame, NdCodecError>;

/** An ND capture that also sends: what an IPv6 claim probes, announces and defends with. */
export class NdSocket extends FrameSocket<NdFrame, NdCodecError> {
  private listener: MulticastListener | null = null;
  /** Addresses listened for per solicited-node group: addresses share a group when their last 24 bits agree. */
  private readonly listening = new Map<Ipv6, Set<Ipv6>>();

  static open(ifname: string, filter: string = ND_FILTER, bufferBytes: number = CAPTURE_BUFFER_BYTES): NdSocket {
    const socket = new NdSocket(FrameSocket.openOn(ifname, filter, bufferBytes), ND_CODEC);
    socket.once('close', () => socket.leaveAll());
    return socket;
  }

  /** Opens `device` for an interface the caller identified itself (Windows: Npcap's \Device\NPF_{GUID}), as ArpSocket.openDevice. */
  static openDevice(iface: InterfaceInfo, device: string, filter: string = ND_FILTER, bufferBytes: number = CAPTURE_BUFFER_BYTES): NdSocket {
    const socket = new NdSocket(FrameSocket.openDeviceOn(iface, device, filter, bufferBytes), ND_CODEC);
    socket.once('close', () => socket.leaveAll());
    return socket;
  }

  /**
   * Joins the solicited-node group of `ip` (once per group), so the DAD probes and solicitations for it
   * reach this capture before the kernel holds the address (it joins the group itself once it does).
   * Throws when the kernel refuses.
   */
  listenFor(ip: Ipv6): void {
    const group = solicitedNodeAddress(ip);
    const addresses = this.listening.get(group);
    if (addresses !== undefined) {
      addresses.add(ip);
      return;
    }
    this.listener ??= MulticastListener.open(this.iface.name, this.iface.index);
    this.listener.join(group);
    this.listening.set(group, new Set([ip]));
  }

  /** Stops listening for `ip`; the group is left when no address of this socket needs it. */
  stopListeningFor(ip: Ipv6): void {
    const group = solicitedNodeAddress(ip);
    const addresses = this.listening.get(group);
    if (addresses === undefined || !addresses.delete(ip) || addresses.size > 0) return;
    this.listening.delete(group);
    try {
      this.listener?.leave(group);
    } catch {
      // The interface went away with its memberships: nothing left to leave.
    }
  }

  private leaveAll(): void {
    this.listening.clear();
    this.listener?.close();
    this.listener = null;
  }
}
