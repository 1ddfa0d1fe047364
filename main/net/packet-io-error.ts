// The one error of ARP sockets and captures, whatever the platform (libpcap, Npcap, a fake LAN): the
// Host seam's openArp throws it, and the agent tells a fault of the link from one of the address by its code.
export type PacketIoErrorCode = 'NO_SUCH_INTERFACE' | 'PERMISSION' | 'NO_LIBPCAP' | 'OPEN_FAILED' | 'CLOSED' | 'SEND_FAILED' | 'CAPTURE_LOST' | 'UNSUPPORTED';

export class PacketIoError extends Error {
  constructor(readonly code: PacketIoErrorCode, message: string) {
    super(message);
    this.name = 'PacketIoError';
  }
}
