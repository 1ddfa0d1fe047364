// Which interface a node uses for a resource: the one the operator named for this node, else the one
// that already has an address in the resource's subnet — the way a Windows cluster binds an IP
// Address resource to a cluster "network". Pure: the caller lists the host's addresses.
import { sameSubnet } from '../arp/addresses';
import type { NodeName, ResourceSpec } from '../cluster/model';

export interface HostAddress {
  ifname: string | null;
  ip: string;
  prefix: number;
  /** Added by this project (marked): never a reason to pick an interface. */
  owned: boolean;
}

export type InterfaceChoice = { ok: true; ifname: string } | { ok: false; detail: string };

/** A host address that can decide an interface: not one of ours, not loopback, on a named interface. */
function isStation(address: HostAddress): address is HostAddress & { ifname: string } {
  return !address.owned && address.ifname !== null && address.ifname !== 'lo';
}

/**
 * The addresses chooseInterface looks at, picked out of a host's list once: a node holding 3,000
 * virtual addresses otherwise walked all of them for each resource (quadratic per reconcile).
 */
export function stationAddresses<A extends HostAddress>(addresses: readonly A[]): A[] {
  return addresses.filter(isStation);
}

export function chooseInterface(spec: Pick<ResourceSpec, 'ip' | 'prefix' | 'interfaces'>, node: NodeName, addresses: readonly HostAddress[]): InterfaceChoice {
  const named = Object.hasOwn(spec.interfaces, node) ? spec.interfaces[node] : undefined;
  // An interface the operator named is used as it is; whether it exists shows when it is opened.
  if (named !== undefined) return { ok: true, ifname: named };
  const candidates = new Set<string>();
  for (const address of addresses) {
    if (!isStation(address)) continue;
    // A /32 resource names no subnet of its own: then the network the host address is on decides.
    const prefix = spec.prefix === 32 ? address.prefix : spec.prefix;
    if (sameSubnet(spec.ip, address.ip, prefix)) candidates.add(address.ifname);
  }
  const sorted = [...candidates].sort();
  if (sorted.length === 0) {
    return { ok: false, detail: `no interface of ${node} has an address in the subnet of ${spec.ip}/${spec.prefix}; name one in interfaces.${node}` };
  }
  return { ok: true, ifname: sorted[0]! };
}
