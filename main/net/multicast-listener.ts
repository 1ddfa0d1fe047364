// Membership of IPv6 multicast groups on one interface, held by a UDP socket: the kernel then reports
// the group by MLD (so a snooping switch forwards it to this port) and lets the NIC's filter pass its
// frames. A claim needs the solicited-node group of its address before the address is registered —
// the kernel joins it only for addresses it has — or another node's duplicate address detection probe
// (sent to that group) would never reach the capture on a LAN that prunes multicast. Closing the socket
// leaves the groups; the kernel's own membership, once the address is registered, stays.
import { createSocket, type Socket } from 'node:dgram';
import { isMulticastIpv6 } from '../nd/addresses';
import type { Ipv6 } from '../nd/frame';
import { validateIfname } from './interfaces';

export class MulticastListener {
  private closed = false;

  private constructor(
    readonly ifname: string,
    private readonly socket: Socket,
  ) {}

  /**
   * A UDP socket for joining groups on `ifname`. Nothing is ever read from it; libuv binds it to an
   * ephemeral port on :: at the first join, so opening and joining are synchronous.
   */
  static open(ifname: string): MulticastListener {
    validateIfname(ifname);
    const socket = createSocket({ type: 'udp6' });
    // A stray datagram or a late socket error must not become an unhandled 'error' event.
    socket.on('error', () => undefined);
    return new MulticastListener(ifname, socket);
  }

  /** Joins `group` on this interface; throws (EADDRINUSE when joined already, ENODEV...) with the group named. */
  join(group: Ipv6): void {
    this.change('join', group);
  }

  /** Leaves `group` (a group not joined throws EADDRNOTAVAIL). */
  leave(group: Ipv6): void {
    this.change('leave', group);
  }

  private change(how: 'join' | 'leave', group: Ipv6): void {
    if (this.closed) throw new Error(`multicast listener on ${this.ifname} is closed`);
    if (!isMulticastIpv6(group)) throw new Error(`${group} is not a multicast group`);
    try {
      // libuv takes the interface as the scope of an address: "::%ifname" names it by index.
      if (how === 'join') this.socket.addMembership(group, `::%${this.ifname}`);
      else this.socket.dropMembership(group, `::%${this.ifname}`);
    } catch (error) {
      throw new Error(`cannot ${how} ${group} on ${this.ifname}: ${(error as Error).message}`, { cause: error });
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
