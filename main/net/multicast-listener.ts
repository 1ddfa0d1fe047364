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

/**
 * The interface argument of addMembership/dropMembership for an IPv6 group: libuv reads it as an
 * address whose scope names the interface. On Linux (and other Unix) the scope is resolved with
 * if_nametoindex, so "::%eth0"; on Windows libuv reads the scope as a NUMBER (atoi: an alias such as
 * "Ethernet 2" would become 0, the default interface), so "::%<ifindex>". Pure.
 */
export function membershipInterface(ifname: string, ifindex: number, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') {
    if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0xffffffff) throw new Error(`interface index must be an integer 1..4294967295, got ${String(ifindex)}`);
    return `::%${ifindex}`;
  }
  validateIfname(ifname);
  return `::%${ifname}`;
}

export class MulticastListener {
  private closed = false;

  private constructor(
    readonly ifname: string,
    private readonly socket: Socket,
    private readonly iface: string,
  ) {}

  /**
   * A UDP socket for joining groups on `ifname` (index `ifindex`: what Windows names it by). Nothing is
   * ever read from it; libuv binds it to an ephemeral port on :: at the first join, so opening and
   * joining are synchronous.
   */
  static open(ifname: string, ifindex: number, platform: NodeJS.Platform = process.platform): MulticastListener {
    const iface = membershipInterface(ifname, ifindex, platform);
    const socket = createSocket({ type: 'udp6' });
    // A stray datagram or a late socket error must not become an unhandled 'error' event.
    socket.on('error', () => undefined);
    return new MulticastListener(ifname, socket, iface);
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
      // libuv takes the interface as the scope of an address (membershipInterface).
      if (how === 'join') this.socket.addMembership(group, this.iface);
      else this.socket.dropMembership(group, this.iface);
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
