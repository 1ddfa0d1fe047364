// IPv6 neighbour discovery on the wire, as ArpSocket is ARP: a `cap` capture of neighbour solicitations
// and advertisements (tagged or not) that also sends them, decoded and encoded by nd/codec.ts.
import { decode, encode, NdCodecError } from '../nd/codec';
import type { NdFrame } from '../nd/frame';
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
  static open(ifname: string, filter: string = ND_FILTER, bufferBytes: number = CAPTURE_BUFFER_BYTES): NdSocket {
    return new NdSocket(FrameSocket.openOn(ifname, filter, bufferBytes), ND_CODEC);
  }
}
