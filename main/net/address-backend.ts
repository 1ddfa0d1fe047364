// One asynchronous interface to a host's IPv4 addresses, whatever the platform: Linux (rtnetlink
// through registrar.ts, synchronous underneath) or Windows (PowerShell / netsh, net/windows/).
// The Windows backend is imported only on win32, so Linux never loads it and vice versa.
import { sameSubnet } from '../arp/addresses';
import { readInterface } from './interfaces';
import { deregister, listAll, listOwned, register, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from './registrar';

export interface AddressBackend {
  /** Adds or renews addresses, marked as ours; one result per item, in order. */
  register(list: readonly VirtualAddress[]): Promise<RegistrarResult[]>;
  /** Removes addresses we added; absent counts as removed; one result per item. */
  deregister(list: readonly VirtualAddress[]): Promise<RegistrarResult[]>;
  /** Only ours, found again after a restart. */
  listOwned(ifname?: string): Promise<InterfaceAddress[]>;
  listAll(ifname?: string): Promise<InterfaceAddress[]>;
  /** The interface with an address of its own (not ours) in the subnet of ip/prefix; null when none. */
  interfaceForSubnet(ip: string, prefix: number): Promise<string | null>;
  /** Canonical MAC ("02:00:0a:d5:00:01") of an interface. */
  macOf(ifname: string): Promise<string>;
}

/**
 * The interface that has an address of its own (not ours, not loopback) in the subnet of ip/prefix;
 * for a /32 the host address's own prefix decides. Several: the lowest name, so the answer does not
 * depend on listing order.
 */
export function interfaceForSubnetIn(addresses: readonly InterfaceAddress[], ip: string, prefix: number): string | null {
  const candidates = new Set<string>();
  for (const a of addresses) {
    if (a.owned || a.ifname === null || sameSubnet(a.ip, '127.0.0.0', 8)) continue;
    if (sameSubnet(ip, a.ip, prefix === 32 ? a.prefix : prefix)) candidates.add(a.ifname);
  }
  return [...candidates].sort()[0] ?? null;
}

/** registrar.ts behind the async interface (its calls are synchronous syscalls, so this only wraps them). */
export const linuxAddressBackend: AddressBackend = {
  register: (list) => Promise.resolve().then(() => register(list)),
  deregister: (list) => Promise.resolve().then(() => deregister(list)),
  listOwned: (ifname) => Promise.resolve().then(() => listOwned(ifname)),
  listAll: (ifname) => Promise.resolve().then(() => listAll(ifname)),
  interfaceForSubnet: (ip, prefix) => Promise.resolve().then(() => interfaceForSubnetIn(listAll(), ip, prefix)),
  macOf: (ifname) => Promise.resolve().then(() => readInterface(ifname).mac),
};

/** The backend for `platform` (process.platform); the Windows one is loaded on first use. */
export async function selectAddressBackend(platform: NodeJS.Platform = process.platform): Promise<AddressBackend> {
  if (platform === 'linux') return linuxAddressBackend;
  if (platform === 'win32') return (await import('./windows/backend.js')).windowsAddressBackend();
  throw new Error(`no address backend for platform ${platform}: Linux and Windows are supported`);
}
