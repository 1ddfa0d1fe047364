// The host's IPv4 addresses as every platform describes them: what we ask for (VirtualAddress), how
// each item went (RegistrarResult), and what an interface carries (InterfaceAddress). Linux
// (net/registrar.ts) and Windows (net/windows/) both speak these. Pure.
import { sameSubnet } from '../arp/addresses';

export interface VirtualAddress {
  ifname: string;
  ip: string;
  prefix: number;
  /** The host removes the address this many seconds after the last register(); absent = forever. */
  validLftSec?: number;
  /** Address becomes "deprecated" (not chosen as a source) after this; defaults to validLftSec. */
  preferredLftSec?: number;
}

export type RegistrarResult =
  | { address: VirtualAddress; ok: true }
  | { address: VirtualAddress; ok: false; code: string; message: string };

/** An IPv4 address as found on an interface. */
export interface InterfaceAddress {
  /** null only if the interface vanished while we listed. */
  ifname: string | null;
  ifindex: number;
  ip: string;
  prefix: number;
  /** IFA_PROTO on Linux; IPFO_ADDR_PROTO for ours, 0 for addresses added by `ip addr add`. */
  proto: number;
  owned: boolean;
  label: string;
  /** Remaining seconds; null = forever. */
  validLftSec: number | null;
  preferredLftSec: number | null;
  /** IFA_F_* bits on Linux. */
  flags: number;
}

/** The code of items register() did not send because their deadline (`notAfterNs`) had passed. */
export const DEADLINE_PASSED = 'ETIME';

/** A listing asked for an interface the host does not have. */
export class NoSuchInterfaceError extends Error {
  readonly code = 'ENODEV';
  override name = 'NoSuchInterfaceError';
  constructor(readonly ifname: string) {
    super(`no such interface: ${ifname}`);
  }
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
