// A capture of the IPv4 and IPv6 frames sent to this host's MAC on one interface: what the convergence
// proof (main/watch/convergence.ts) needs to find stations that still send to an address it gave away.
// Only the Ethernet source and the IP source and destination are read (an IPv6 address as RFC 5952
// text, the form resources and ND frames carry). The agent opens a tap only while a handoff is being
// watched, one per interface whatever the number of addresses.
import type { Ipv4, Mac } from '../arp/frame';
import { canonicalMac } from '../arp/addresses';
import { formatIpv6 } from '../nd/addresses';
import { validateIfname } from './interfaces';
import { openCapHandle } from './pcap';

const TAP_BUFFER_BYTES = 4 * 1024 * 1024;
const SNAP_BYTES = 64; // Ethernet (+802.1Q) + the IPv4 header up to its destination address, or the IPv6 header (58)

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const IPV6_HEADER_BYTES = 40;

export interface TappedFrame {
  srcMac: Mac;
  /** Both of one family: dotted quads (Ipv4), or RFC 5952 text (Ipv6). */
  srcIp: string;
  dstIp: string;
}

function hexMac(buf: Buffer, offset: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push((buf[offset + i] ?? 0).toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Ethernet source and IP source and destination of a frame; null when it is neither IPv4 nor IPv6, or too short. */
export function parseTapped(buf: Buffer, length: number): TappedFrame | null {
  if (length < 14) return null;
  let offset = 12;
  if (length >= 18 && buf.readUInt16BE(offset) === 0x8100) offset += 4;
  if (length < offset + 2) return null;
  const etherType = buf.readUInt16BE(offset);
  const ip = offset + 2;
  if (etherType === ETHERTYPE_IPV4) {
    if (length < ip + 20) return null;
    const quad = (at: number): Ipv4 => `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
    return { srcMac: hexMac(buf, 6), srcIp: quad(ip + 12), dstIp: quad(ip + 16) };
  }
  if (etherType === ETHERTYPE_IPV6) {
    if (length < ip + IPV6_HEADER_BYTES || buf[ip]! >> 4 !== 6) return null;
    return { srcMac: hexMac(buf, 6), srcIp: formatIpv6(buf, ip + 8), dstIp: formatIpv6(buf, ip + 24) };
  }
  return null;
}

export class FrameTap {
  private closed = false;

  private constructor(private readonly handle: { close(): void }) {}

  /**
   * IPv4 and IPv6 frames on `ifname` addressed to `mac` (untagged). Throws when capture is impossible; when the
   * capture fails later (the interface went down or away) the tap closes and `onLost` says why.
   */
  static open(ifname: string, mac: Mac, onFrame: (frame: TappedFrame) => void, onLost: (reason: string) => void = () => undefined): FrameTap {
    validateIfname(ifname);
    // Only the canonical MAC reaches the filter: no outside text is ever spliced into BPF source.
    const filter = `ether dst ${canonicalMac(mac)} and (ip or ip6)`;
    const buffer = Buffer.alloc(SNAP_BYTES * 32);
    const handle = openCapHandle(ifname, filter, TAP_BUFFER_BYTES, buffer); // one clear error when libpcap (or Npcap) is missing
    const tap = new FrameTap(handle);
    handle.on('packet', (nbytes: number) => {
      const frame = parseTapped(buffer, nbytes);
      if (frame && !tap.closed) onFrame(frame);
    });
    handle.on('error', (error: unknown) => {
      if (tap.closed) return;
      tap.close();
      onLost(error instanceof Error ? error.message : String(error));
    });
    return tap;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.handle.close();
  }
}
