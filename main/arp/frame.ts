// The decoded shape of an ARP-over-Ethernet frame, shared by the codec (arp/codec.ts),
// the conflict-detection state machine (arp/acd.ts) and the packet I/O.
// Addresses are kept as canonical strings (lowercase "aa:bb:cc:dd:ee:ff", dotted quad)
// because they are compared, logged and sent as JSON far more often than encoded.

/** Canonical MAC: six lowercase two-digit hex groups joined by ':'. */
export type Mac = string;
/** Canonical IPv4: dotted quad, decimal, no leading zeros. */
export type Ipv4 = string;

export const BROADCAST_MAC: Mac = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: Mac = '00:00:00:00:00:00';
export const ZERO_IP: Ipv4 = '0.0.0.0';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100;

export type ArpOp = 'request' | 'reply';

export interface ArpPacket {
  op: ArpOp;
  senderMac: Mac;
  senderIp: Ipv4;
  targetMac: Mac;
  targetIp: Ipv4;
}

export interface ArpFrame {
  /** Ethernet destination. */
  dst: Mac;
  /** Ethernet source. */
  src: Mac;
  /** 802.1Q VLAN id (0-4095) when the frame was tagged, else null. */
  vlan: number | null;
  arp: ArpPacket;
}
