// Which solicited-node groups an ND socket must be in, from who listens for which address. Several
// claims may listen for one address at once (a move's probe and the claim that follows it), and
// addresses share a group when their last 24 bits agree: a group is joined at its first listener and
// left after its last. Pure: the socket joins and leaves as told (net/nd-socket.ts, the fake LAN's port).
import { solicitedNodeAddress } from './addresses';
import type { Ipv6 } from './frame';

export class GroupListeners {
  /** Per group, each address's count of listens not yet ended. */
  private readonly byGroup = new Map<Ipv6, Map<Ipv6, number>>();

  /**
   * One more listener for `ip`; `join` runs when its group has none yet, before anything is counted,
   * so a join that throws leaves nothing counted.
   */
  listen(ip: Ipv6, join: (group: Ipv6) => void): void {
    const group = solicitedNodeAddress(ip);
    const addresses = this.byGroup.get(group);
    if (addresses !== undefined) {
      addresses.set(ip, (addresses.get(ip) ?? 0) + 1);
      return;
    }
    join(group);
    this.byGroup.set(group, new Map([[ip, 1]]));
  }

  /** One listener of `ip` fewer; `leave` runs when its group has none left. Unknown addresses are ignored. */
  stop(ip: Ipv6, leave: (group: Ipv6) => void): void {
    const group = solicitedNodeAddress(ip);
    const addresses = this.byGroup.get(group);
    const count = addresses?.get(ip);
    if (addresses === undefined || count === undefined) return;
    if (count > 1) {
      addresses.set(ip, count - 1);
      return;
    }
    addresses.delete(ip);
    if (addresses.size > 0) return;
    this.byGroup.delete(group);
    leave(group);
  }

  /** The groups joined now. */
  groups(): Ipv6[] {
    return [...this.byGroup.keys()];
  }

  clear(): void {
    this.byGroup.clear();
  }
}
