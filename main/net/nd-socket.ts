// IPv6 neighbour discovery on the wire, as ArpSocket is ARP: a `cap` capture of neighbour solicitations
// and advertisements (tagged or not) that also sends them, decoded and encoded by nd/codec.ts, and the
// memberships of the solicited-node groups its claims listen to (net/multicast-listener.ts).
import { GroupListeners } from '../nd/group-listeners';
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
  /** The solicited-node groups the claims on this socket need, counted per address. */
  private readonly listening = new GroupListeners();

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
   * Counted: every call needs its stopListeningFor (two claims of one address each listen). Throws
   * when the kernel refuses, and then counts nothing.
   */
  listenFor(ip: Ipv6): void {
    this.listening.listen(ip, (group) => {
      this.listener ??= MulticastListener.open(this.iface.name, this.iface.index);
      this.listener.join(group);
    });
  }

  /** Ends one listenFor of `ip`; the group is left when nothing of this socket listens to it any more. */
  stopListeningFor(ip: Ipv6): void {
    this.listening.stop(ip, (group) => {
      try {
        this.listener?.leave(group);
      } catch {
        // The interface went away with its memberships: nothing left to leave.
      }
    });
  }

  private leaveAll(): void {
    this.listening.clear();
    this.listener?.close();
    this.listener = null;
  }
}
