// Which interface a node uses for a resource: the one the operator named for this node, else the one
// that already has an address in the resource's subnet — the way a Windows cluster binds an IP
// Address resource to a cluster "network". Pure: the caller lists the host's addresses. An IPv6
// resource (issue 18) looks only at the host's IPv6 addresses, an IPv4 one only at its IPv4 ones.
import { sameSubnet } from '../arp/addresses';
import { isLinkLocalIpv6, parseIpv6 } from '../nd/addresses';
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

/** The first `prefix` bits of two IPv6 addresses (16 bytes each) agree. */
function samePrefix6(a: Uint8Array, b: Uint8Array, prefix: number): boolean {
  const whole = prefix >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const bits = prefix & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return (((a[whole] as number) ^ (b[whole] as number)) & mask) === 0;
}

/**
 * The IPv6 station addresses in the resource's prefix. Link-local ones never decide: every interface
 * has one, and a cluster address is never link-local (validate.ts).
 */
function ipv6Candidates(spec: Pick<ResourceSpec, 'ip' | 'prefix'>, addresses: readonly HostAddress[], candidates: Set<string>): void {
  const ip = parseIpv6(spec.ip);
  for (const address of addresses) {
    if (!isStation(address) || !address.ip.includes(':') || isLinkLocalIpv6(address.ip)) continue;
    // A /128 resource names no prefix of its own: then the prefix the host address is on decides.
    const prefix = spec.prefix === 128 ? address.prefix : spec.prefix;
    if (samePrefix6(ip, parseIpv6(address.ip), prefix)) candidates.add(address.ifname);
  }
}

export function chooseInterface(spec: Pick<ResourceSpec, 'ip' | 'prefix' | 'interfaces'>, node: NodeName, addresses: readonly HostAddress[]): InterfaceChoice {
  const named = Object.hasOwn(spec.interfaces, node) ? spec.interfaces[node] : undefined;
  // An interface the operator named is used as it is; whether it exists shows when it is opened.
  if (named !== undefined) return { ok: true, ifname: named };
  const candidates = new Set<string>();
  if (spec.ip.includes(':')) ipv6Candidates(spec, addresses, candidates);
  else {
    for (const address of addresses) {
      // The host's IPv6 addresses are listed too (for IPv6 resources): never an IPv4 resource's subnet.
      if (!isStation(address) || address.ip.includes(':')) continue;
      // A /32 resource names no subnet of its own: then the network the host address is on decides.
      const prefix = spec.prefix === 32 ? address.prefix : spec.prefix;
      if (sameSubnet(spec.ip, address.ip, prefix)) candidates.add(address.ifname);
    }
  }
  const sorted = [...candidates].sort();
  if (sorted.length === 0) {
    return { ok: false, detail: `no interface of ${node} has an address in the subnet of ${spec.ip}/${spec.prefix}; name one in interfaces.${node}` };
  }
  return { ok: true, ifname: sorted[0]! };
}
