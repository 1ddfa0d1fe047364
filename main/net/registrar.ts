// Linux address registrar: puts virtual IPv4 and IPv6 addresses on interfaces and takes them off again,
// through the rtnetlink addon (no `ip` process per call). Every address we add carries the
// kernel's per-address protocol mark IFA_PROTO = IPFO_ADDR_PROTO, so "ours" is a fact the kernel
// keeps, not a list we could lose: listOwned() survives restarts of the agent, and we never
// delete an address an administrator configured by hand.
//
// Lifetimes (validLftSec) are enforced by the kernel: an address whose owner stops renewing it
// (register() again with the same lifetime) disappears by itself. That is the dead-man switch
// the cluster design relies on when an owner hangs or is cut off.
//
// IPv6 goes the same way, told by the address text (only IPv6 text has a ':'), with two kernel
// differences the code below accounts for: IPv6 addresses are added without duplicate address
// detection (the agent probes itself; a tentative address would answer nobody for a second or more
// after a takeover), and the kernel identifies an IPv6 address by interface and address alone, so
// there is never a second copy of one with another prefix (IPv4 allows that).
// The kernel's IPv6 prefix route differs too: an IPv4 subnet route lives as long as an address of the
// subnet does, while the IPv6 /64 route of addresses with lifetimes takes the lifetime of the address
// added or renewed last in it (none while the /64 also holds an address without one, such as the
// administrator's). Renewals that extend every address together keep it on-link, as the agent's do;
// a short-lived address added after a long-lived one of ours, alone in their /64 and then left
// unrenewed, takes the /64 off-link when it runs out although the other still lives (measured on 6.18).
//
// All operations act on the network namespace of the calling process, and interface names are
// resolved through /sys/class/net, which must belong to that same namespace (true for the
// host, and for `ip netns exec`, which remounts /sys).
import { readdirSync, readFileSync } from 'node:fs';
import { isIpv6Text } from '../../preload/contract/ip-address';
import path from 'node:path';
import { isIpv4 } from '../arp/addresses';
import {
  canonicalIpv6,
  isIpv4MappedIpv6,
  isIpv6,
  isLinkLocalIpv6,
  isLoopbackIpv6,
  isMulticastIpv6,
  isUnspecifiedIpv6,
} from '../nd/addresses';
import { validateIfname as validateInterfaceName } from './interfaces';
import { netlink, type NetlinkAddress, type NetlinkAddressSpec, type NetlinkFamilies, type NetlinkItemResult } from './netlink';
import { NoSuchInterfaceError, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from '../host/address-types';

/**
 * IFA_PROTO value that marks our addresses. Address protocols share the RTPROT number space
 * with routes; iproute2's rt_addrprotos names 0..3 (unspec, kernel_lo, kernel_ra, kernel_ll)
 * and the kernel interprets nothing above 3. 0x99 = 153 is assigned to no routing daemon in
 * linux/rtnetlink.h or /etc/iproute2/rt_protos (keepalived is 18, BGP 186...), so nothing
 * else should ever set it on an address.
 */
export const IPFO_ADDR_PROTO = 0x99;

/** Most addresses the addon filters a listing by (above that it lists everything). */
const MAX_FILTER_ADDRESSES = 256;

/** Kernel "forever" for lifetimes; a finite lifetime must stay below it. */
const MAX_FINITE_LIFETIME_SEC = 0xfffffffe;

export type { InterfaceAddress, RegistrarResult, VirtualAddress } from '../host/address-types';
export { DEADLINE_PASSED, NoSuchInterfaceError } from '../host/address-types';

export class RegistrarInputError extends Error {
  readonly code = 'EINVAL';
  override name = 'RegistrarInputError';
}

/** Which families a listing covers. */
export type AddressFamilies = 'ipv4' | 'ipv6' | 'both';

const NETLINK_FAMILIES: Readonly<Record<AddressFamilies, NetlinkFamilies>> = { ipv4: 4, ipv6: 6, both: 0 };

// Whether `ip` is (meant as) an IPv6 address: the family is told by the text, and only IPv6 text has a ':'.
export { isIpv6Text };


/** One failed item of a batch, as an Error (the members of RegistrarBatchError). */
export class RegistrarItemError extends Error {
  override name = 'RegistrarItemError';
  constructor(
    readonly address: VirtualAddress,
    readonly code: string,
    message: string,
  ) {
    super(`${address.ip}/${address.prefix} on ${address.ifname}: ${message}`);
  }
}

export class RegistrarBatchError extends AggregateError {
  override name = 'RegistrarBatchError';
  constructor(
    readonly action: 'register' | 'deregister',
    readonly failures: readonly RegistrarItemError[],
    total: number,
  ) {
    super(failures, `${action}: ${failures.length} of ${total} addresses failed: ${failures.map((f) => f.message).join('; ')}`);
  }
}

// ---------- pure validation ----------

/** Throws RegistrarInputError unless name is a plausible Linux interface name (rules in net/interfaces.ts). */
export function validateIfname(name: string): void {
  if (typeof name !== 'string') throw new RegistrarInputError('interface name must be a string');
  try {
    validateInterfaceName(name);
  } catch (error) {
    throw new RegistrarInputError((error as Error).message);
  }
}

function checkLifetime(value: number | undefined, min: number, what: string): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > MAX_FINITE_LIFETIME_SEC) {
    throw new RegistrarInputError(`${what} must be an integer ${min}..${MAX_FINITE_LIFETIME_SEC} seconds (leave it out for forever)`);
  }
}

/**
 * Throws RegistrarInputError unless ip is an IPv6 address a cluster may move between nodes, in the one
 * spelling the cluster stores and the kernel lists (RFC 5952): any other spelling would make the same
 * address look like two, and the ownership checks compare text.
 */
function validateIpv6(ip: string): void {
  if (!isIpv6(ip)) {
    try {
      canonicalIpv6(ip);
    } catch (error) {
      throw new RegistrarInputError((error as Error).message);
    }
  }
  const canonical = canonicalIpv6(ip);
  if (canonical !== ip) {
    throw new RegistrarInputError(`IPv6 address ${JSON.stringify(ip)} is not in canonical form (RFC 5952): write ${JSON.stringify(canonical)}`);
  }
  const shown = JSON.stringify(ip);
  if (isUnspecifiedIpv6(ip)) throw new RegistrarInputError(`refusing ${shown}: the unspecified address names no host`);
  if (isLoopbackIpv6(ip)) throw new RegistrarInputError(`refusing ${shown}: the loopback address never leaves the host`);
  if (isMulticastIpv6(ip)) throw new RegistrarInputError(`refusing ${shown}: a multicast address is not a host's address`);
  if (isIpv4MappedIpv6(ip)) throw new RegistrarInputError(`refusing ${shown}: an IPv4-mapped address is IPv4; register its dotted quad instead`);
  if (isLinkLocalIpv6(ip)) throw new RegistrarInputError(`refusing ${shown}: a link-local address belongs to one link, not to a resource that moves`);
}

/** Throws RegistrarInputError describing the first problem with v. */
export function validateVirtualAddress(v: VirtualAddress): void {
  if (typeof v !== 'object' || v === null) throw new RegistrarInputError('address must be an object');
  validateIfname(v.ifname);
  if (isIpv6Text(v.ip)) {
    validateIpv6(v.ip);
    // A /0 would put the whole IPv6 Internet on-link.
    if (!Number.isInteger(v.prefix) || v.prefix < 1 || v.prefix > 128) {
      throw new RegistrarInputError(`prefix must be an integer 1..128 for an IPv6 address: ${typeof v.prefix === 'number' ? String(v.prefix) : JSON.stringify(v.prefix)}`);
    }
  } else if (!isIpv4(v.ip)) {
    throw new RegistrarInputError(`not an IPv4 dotted quad (4 decimal octets 0-255, no leading zeros): ${JSON.stringify(v.ip)}`);
  } else if (!Number.isInteger(v.prefix) || v.prefix < 0 || v.prefix > 32) {
    throw new RegistrarInputError(`prefix must be an integer 0..32: ${String(v.prefix)}`);
  }
  checkLifetime(v.validLftSec, 1, 'validLftSec');
  checkLifetime(v.preferredLftSec, 0, 'preferredLftSec');
  if (v.validLftSec !== undefined && v.preferredLftSec !== undefined && v.preferredLftSec > v.validLftSec) {
    throw new RegistrarInputError('preferredLftSec must not exceed validLftSec');
  }
}

/** Throws RegistrarBatchError when any item failed. */
export function throwOnFailures(action: 'register' | 'deregister', results: readonly RegistrarResult[]): void {
  const failures = results.flatMap((r) => (r.ok ? [] : [new RegistrarItemError(r.address, r.code, r.message)]));
  if (failures.length > 0) throw new RegistrarBatchError(action, failures, results.length);
}

// ---------- interfaces (sysfs) ----------

const SYS_CLASS_NET = '/sys/class/net';

/** Index of the interface called name; NoSuchInterfaceError when there is none. */
export function ifindexOf(name: string): number {
  validateIfname(name);
  let text: string;
  try {
    text = readFileSync(path.join(SYS_CLASS_NET, name, 'ifindex'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new NoSuchInterfaceError(name);
    throw error;
  }
  const index = Number(text.trim());
  if (!Number.isInteger(index) || index <= 0) throw new Error(`unreadable ifindex for ${name}: ${JSON.stringify(text)}`);
  return index;
}

function interfaceNamesByIndex(): Map<number, string> {
  const names = new Map<number, string>();
  for (const name of readdirSync(SYS_CLASS_NET)) {
    try {
      names.set(ifindexOf(name), name);
    } catch {
      // raced with the interface going away, or a sysfs entry that is not an interface
    }
  }
  return names;
}

// ---------- effects ----------

type Pending = { index: number; address: VirtualAddress; ifindex: number };

/** How the kernel tells addresses apart: IPv4 by address and prefix, IPv6 by address alone. */
const keyOf = (ifindex: number, ip: string, prefix: number): string => (isIpv6Text(ip) ? `${ifindex} ${ip}` : `${ifindex} ${ip}/${prefix}`);

/** The kernel's text of an address in the spelling we compare (glibc does not always write RFC 5952). */
const listedIp = (address: string): string => (isIpv6Text(address) ? canonicalIpv6(address) : address);

/** The one dump a set of addresses needs: an all-IPv4 set lists exactly as before IPv6. */
function familiesOf(ips: readonly string[]): NetlinkFamilies {
  const v6 = ips.filter(isIpv6Text).length;
  return v6 === 0 ? 4 : v6 === ips.length ? 6 : 0;
}

function failure(address: VirtualAddress, error: unknown): RegistrarResult {
  const code = (error as { code?: unknown }).code;
  return {
    address,
    ok: false,
    code: typeof code === 'string' ? code : 'EIO',
    message: error instanceof Error ? error.message : String(error),
  };
}

function fromNetlink(address: VirtualAddress, result: NetlinkItemResult): RegistrarResult {
  return result.ok ? { address, ok: true } : { address, ok: false, code: result.code, message: result.message };
}

/**
 * Validates every item and resolves its interface; invalid items get their result at once,
 * the rest come back with the kernel's current addresses on their interfaces.
 */
function prepare(list: readonly VirtualAddress[], results: RegistrarResult[]): { pending: Pending[]; existing: Map<string, NetlinkAddress> } {
  const pending: Pending[] = [];
  const ifindexByName = new Map<string, number>();
  list.forEach((address, index) => {
    try {
      validateVirtualAddress(address);
      const ifindex = ifindexByName.get(address.ifname) ?? ifindexOf(address.ifname);
      ifindexByName.set(address.ifname, ifindex);
      pending.push({ index, address, ifindex });
    } catch (error) {
      results[index] = failure(address, error);
    }
  });
  const existing = new Map<string, NetlinkAddress>();
  const failedIfindexes = new Map<number, unknown>();
  for (const ifindex of new Set(pending.map((p) => p.ifindex))) {
    // Only the addresses in question come back as objects (the kernel still walks the interface's list).
    const wanted = [...new Set(pending.filter((p) => p.ifindex === ifindex).map((p) => p.address.ip))];
    try {
      const found = netlink().listAddresses(ifindex, wanted.length <= MAX_FILTER_ADDRESSES ? wanted : undefined, familiesOf(wanted));
      for (const entry of found) {
        const address = isIpv6Text(entry.address) ? { ...entry, address: canonicalIpv6(entry.address) } : entry;
        existing.set(keyOf(address.ifindex, address.address, address.prefix), address);
      }
    } catch (error) {
      failedIfindexes.set(ifindex, error); // e.g. the interface vanished after we resolved it
    }
  }
  const usable = pending.filter((p) => {
    if (!failedIfindexes.has(p.ifindex)) return true;
    results[p.index] = failure(p.address, failedIfindexes.get(p.ifindex));
    return false;
  });
  return { pending: usable, existing };
}

function notOurs(address: VirtualAddress, found: NetlinkAddress, action: string): RegistrarResult {
  return {
    address,
    ok: false,
    code: 'ENOTOWNED',
    message: `refusing to ${action} ${address.ip}/${address.prefix} on ${address.ifname}: it exists without our mark (proto ${found.proto}), so it belongs to someone else`,
  };
}

/**
 * The kernel keeps one prefix per IPv6 address and answers a REPLACE with another prefix with success
 * while it changes nothing: say so rather than report a registration that did not happen.
 */
function otherPrefix(address: VirtualAddress, found: NetlinkAddress): RegistrarResult {
  return {
    address,
    ok: false,
    code: 'EEXIST',
    message: `cannot register ${address.ip}/${address.prefix} on ${address.ifname}: it is there as /${found.prefix}, and an IPv6 address has one prefix; deregister that first`,
  };
}

/**
 * Adds (or renews) addresses, marked as ours. Idempotent: registering an address again
 * replaces it in place and renews its lifetimes. An address that already exists without
 * our mark is left alone (ENOTOWNED), since taking it over would let a later deregister
 * delete the administrator's address. One result per item, in order.
 * `notAfterNs` (process.hrtime.bigint() time): nothing is sent after it — the items fail with
 * code DEADLINE_PASSED. A lifetime counts from when the kernel sees it, so a renewal decided
 * just before this process was frozen must not land when it thaws (it would bring back
 * addresses that expired meanwhile, and a standby may have taken them over).
 */
export function register(list: readonly VirtualAddress[], notAfterNs?: bigint): RegistrarResult[] {
  const results = new Array<RegistrarResult>(list.length);
  const { pending, existing } = prepare(list, results);
  const toSend: Pending[] = [];
  for (const p of pending) {
    const found = existing.get(keyOf(p.ifindex, p.address.ip, p.address.prefix));
    if (found !== undefined && found.proto !== IPFO_ADDR_PROTO) results[p.index] = notOurs(p.address, found, 'register');
    else if (found !== undefined && found.prefix !== p.address.prefix) results[p.index] = otherPrefix(p.address, found);
    else toSend.push(p);
  }
  const specs = toSend.map(({ address, ifindex }): NetlinkAddressSpec => {
    const spec: NetlinkAddressSpec = { ifindex, address: address.ip, prefix: address.prefix, proto: IPFO_ADDR_PROTO };
    if (address.validLftSec !== undefined) spec.validLft = address.validLftSec;
    if (address.preferredLftSec !== undefined) spec.preferredLft = address.preferredLftSec;
    return spec;
  });
  const outcomes = specs.length > 0 ? netlink().addAddresses(specs, notAfterNs) : [];
  toSend.forEach((p, i) => {
    results[p.index] = fromNetlink(p.address, outcomes[i] ?? { ok: false, code: 'EIO', errno: 5, message: 'no result from the addon' });
  });
  return results;
}

/**
 * Removes addresses we registered. Idempotent: an address that is not there counts as
 * removed. An address that exists without our mark is refused (ENOTOWNED).
 * Beware the kernel rule for primaries: deleting the first address of a subnet on an
 * interface also deletes that subnet's secondaries unless net.ipv4.conf.<if>.promote_secondaries
 * is 1. Keep an administrator's own address first in each subnet, or use /32 addresses.
 */
export function deregister(list: readonly VirtualAddress[]): RegistrarResult[] {
  const results = new Array<RegistrarResult>(list.length);
  const { pending, existing } = prepare(list, results);
  const toSend: Pending[] = [];
  for (const p of pending) {
    const found = existing.get(keyOf(p.ifindex, p.address.ip, p.address.prefix));
    // Another prefix is another address, as for IPv4 (the kernel would not delete it either).
    if (found === undefined || found.prefix !== p.address.prefix) results[p.index] = { address: p.address, ok: true };
    else if (found.proto !== IPFO_ADDR_PROTO) results[p.index] = notOurs(p.address, found, 'deregister');
    else toSend.push(p);
  }
  const keys = toSend.map(({ address, ifindex }) => ({ ifindex, address: address.ip, prefix: address.prefix }));
  const outcomes = keys.length > 0 ? netlink().removeAddresses(keys) : [];
  toSend.forEach((p, i) => {
    results[p.index] = fromNetlink(p.address, outcomes[i] ?? { ok: false, code: 'EIO', errno: 5, message: 'no result from the addon' });
  });
  return results;
}

/** register(), throwing RegistrarBatchError if any item failed. */
export function registerOrThrow(list: readonly VirtualAddress[]): void {
  throwOnFailures('register', register(list));
}

/** deregister(), throwing RegistrarBatchError if any item failed. */
export function deregisterOrThrow(list: readonly VirtualAddress[]): void {
  throwOnFailures('deregister', deregister(list));
}

/**
 * Every address of one interface or of all; IPv4 only unless `families` says otherwise, because
 * callers that look for a station address or a subnet's interface speak IPv4 (every interface has
 * an IPv6 link-local address). IPv6 addresses come in RFC 5952 text, after the IPv4 ones.
 */
export function listAll(ifname?: string, families: AddressFamilies = 'ipv4'): InterfaceAddress[] {
  const ifindex = ifname === undefined ? 0 : ifindexOf(ifname);
  const names = ifname === undefined ? interfaceNamesByIndex() : new Map([[ifindex, ifname]]);
  return netlink()
    .listAddresses(ifindex, undefined, NETLINK_FAMILIES[families])
    .map((a) => ({
      ifname: names.get(a.ifindex) ?? null,
      ifindex: a.ifindex,
      ip: listedIp(a.address),
      prefix: a.prefix,
      proto: a.proto,
      owned: a.proto === IPFO_ADDR_PROTO,
      label: a.label,
      validLftSec: a.validLft,
      preferredLftSec: a.preferredLft,
      flags: a.flags,
    }));
}

/** Only the addresses carrying our mark, of both families unless told: whatever we registered is ours to find after a restart. */
export function listOwned(ifname?: string, families: AddressFamilies = 'both'): InterfaceAddress[] {
  return listAll(ifname, families).filter((a) => a.owned);
}

/**
 * Removes our marked copies of these addresses from whatever interface holds them now. After an
 * interface was renamed, its old name resolves to nothing (deregister() cannot find it) while the
 * address still sits on it under the new name; this finds it by the kernel's mark instead. Returns how
 * many were removed; failures are left to the caller's next pass (the kernel lifetime is the backstop).
 */
export function removeOwnedAnywhere(addresses: ReadonlyArray<{ ip: string; prefix: number }>): number {
  if (addresses.length === 0) return 0;
  const wanted = new Set(addresses.map((a) => `${a.ip}/${a.prefix}`));
  const keys = netlink()
    .listAddresses(0, undefined, familiesOf(addresses.map((a) => a.ip)))
    .filter((a) => a.proto === IPFO_ADDR_PROTO && wanted.has(`${listedIp(a.address)}/${a.prefix}`))
    .map((a) => ({ ifindex: a.ifindex, address: a.address, prefix: a.prefix }));
  if (keys.length === 0) return 0;
  return netlink().removeAddresses(keys).filter((outcome) => outcome.ok).length;
}
