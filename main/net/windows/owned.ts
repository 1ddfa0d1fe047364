// Which Windows addresses are ours, and what register/deregister must do. Pure.
//
// Windows keeps no per-address protocol mark like Linux's IFA_PROTO, so "ours" is established from
// two sources, and BOTH must agree:
//   1. a record file (ProgramData\ipfo\owned-addresses.json) listing interface index, IP and prefix of
//      every address we add. It is written BEFORE the add (so a crash after the add cannot leave an
//      address we would refuse to remove) and the entry is dropped after a successful remove;
//   2. the address as Windows lists it: ActiveStore only (we never write the PersistentStore, an
//      administrator's static address is in both), PrefixOrigin Manual, SkipAsSource true.
// An address in the records that fails (2) is someone else's: an administrator re-created it, or the
// index now names another adapter after a reboot. Records whose address is gone are pruned on every
// listing, so a stale record cannot claim an address added later. ActiveStore addresses vanish at a
// reboot, like netlink addresses on Linux, which keeps the records short-lived.
import { sameSubnet } from '../../arp/addresses';
import { DEADLINE_PASSED, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from '../../host/address-types';
import { DEADLINE_MESSAGE, type RegisterItem, type IndexedAddress } from './commands';
import type { WindowsAdapter, WindowsAddress } from './parse';
import { validateAddress, validateAlias, validateIpv4, validateLifetimes, validatePrefix } from './validate';

/** IFA_PROTO of our addresses on Linux (registrar.ts); reported for ours here so `proto` and `owned` agree. */
export const IPFO_ADDR_PROTO = 0x99;

export interface OwnedRecord {
  ifindex: number;
  ip: string;
  prefix: number;
}

export class OwnedRecordsError extends Error {
  override name = 'OwnedRecordsError';
}

export const ownedKey = (ifindex: number, ip: string, prefix: number): string => `${ifindex} ${ip}/${prefix}`;

/** The record file's text; an empty or missing file is no records. */
export function parseOwnedRecords(text: string): OwnedRecord[] {
  if (text.trim() === '') return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new OwnedRecordsError(`owned-address records are not JSON: ${(error as Error).message}`);
  }
  const doc = value as { version?: unknown; addresses?: unknown };
  if (typeof value !== 'object' || value === null || doc.version !== 1 || !Array.isArray(doc.addresses)) {
    throw new OwnedRecordsError('owned-address records: expected {"version": 1, "addresses": [...]}');
  }
  return (doc.addresses as unknown[]).map((item, at) => {
    const r = item as Partial<OwnedRecord> | null;
    if (
      typeof r !== 'object' || r === null ||
      typeof r.ifindex !== 'number' || !Number.isInteger(r.ifindex) || r.ifindex < 1 ||
      !isRecordedAddress(r.ip, r.prefix)
    ) {
      throw new OwnedRecordsError(`owned-address records: entry ${at + 1} is not {ifindex, ip, prefix}`);
    }
    return { ifindex: r.ifindex, ip: r.ip as string, prefix: r.prefix as number };
  });
}

/** An IPv4 address with a prefix 0..32, or an RFC 5952 IPv6 one with 0..128. */
function isRecordedAddress(ip: unknown, prefix: unknown): boolean {
  if (typeof ip !== 'string' || typeof prefix !== 'number') return false;
  try {
    validateAddress(ip, prefix);
    return true;
  } catch {
    return false;
  }
}

/**
 * An address's DAD state as the Linux IFA_F_* bits InterfaceAddress.flags carries: Windows' Tentative
 * is IFA_F_TENTATIVE (not carried yet: DAD runs), Duplicate is IFA_F_DADFAILED (never carried),
 * Deprecated is IFA_F_DEPRECATED (still carried, not chosen as a source).
 */
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;

export function stateFlags(state: string): number {
  if (state === 'Tentative') return IFA_F_TENTATIVE;
  if (state === 'Duplicate') return IFA_F_DADFAILED;
  if (state === 'Deprecated') return IFA_F_DEPRECATED;
  return 0;
}

/** Sorted and without duplicates, so the file changes only when the set does. */
export function formatOwnedRecords(records: readonly OwnedRecord[]): string {
  const unique = new Map(records.map((r) => [ownedKey(r.ifindex, r.ip, r.prefix), { ifindex: r.ifindex, ip: r.ip, prefix: r.prefix }]));
  const sorted = [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  return `${JSON.stringify({ version: 1, addresses: sorted }, null, 2)}\n`;
}

/** Whether Windows' view of an address fits one we added (rule 2 above). */
export function looksLikeOurs(address: WindowsAddress, persistentKeys: ReadonlySet<string>): boolean {
  return (
    address.store === 'ActiveStore' &&
    address.prefixOrigin === 'Manual' &&
    address.skipAsSource &&
    !persistentKeys.has(ownedKey(address.ifindex, address.ip, address.prefix))
  );
}

export interface OwnershipView {
  addresses: InterfaceAddress[];
  /** The records still backed by an address; write them back if they differ from what was read. */
  records: OwnedRecord[];
}

/** Active-store addresses as the registrar's InterfaceAddress, owned = both rules hold. */
export function markOwnership(active: readonly WindowsAddress[], persistent: readonly WindowsAddress[], records: readonly OwnedRecord[]): OwnershipView {
  const persistentKeys = new Set(persistent.map((a) => ownedKey(a.ifindex, a.ip, a.prefix)));
  const recorded = new Set(records.map((r) => ownedKey(r.ifindex, r.ip, r.prefix)));
  const present = new Set<string>();
  const addresses = active.map((a): InterfaceAddress => {
    const key = ownedKey(a.ifindex, a.ip, a.prefix);
    present.add(key);
    const owned = recorded.has(key) && looksLikeOurs(a, persistentKeys);
    return {
      ifname: a.alias,
      ifindex: a.ifindex,
      ip: a.ip,
      prefix: a.prefix,
      proto: owned ? IPFO_ADDR_PROTO : 0,
      owned,
      label: a.alias,
      validLftSec: a.validLftSec,
      preferredLftSec: a.preferredLftSec,
      flags: stateFlags(a.state),
    };
  });
  return { addresses, records: records.filter((r) => present.has(ownedKey(r.ifindex, r.ip, r.prefix))) };
}

// ---------- interface resolution ----------

export interface KnownInterface {
  alias: string;
  ifindex: number;
}

/** Every alias ↔ index pair we know of, from adapters and addresses (loopback has no adapter). */
export function knownInterfaces(adapters: readonly WindowsAdapter[], addresses: readonly WindowsAddress[]): KnownInterface[] {
  const byIndex = new Map<number, string>();
  for (const a of adapters) byIndex.set(a.ifindex, a.name);
  for (const a of addresses) if (!byIndex.has(a.ifindex)) byIndex.set(a.ifindex, a.alias);
  return [...byIndex.entries()].map(([ifindex, alias]) => ({ ifindex, alias }));
}

/**
 * The index of the interface called `alias`: an exact match, else the one case-insensitive match
 * (Windows compares aliases without case). null when none or ambiguous.
 */
export function resolveAlias(alias: string, known: readonly KnownInterface[]): number | null {
  const exact = known.filter((k) => k.alias === alias);
  if (exact.length === 1) return exact[0]!.ifindex;
  const folded = alias.toUpperCase();
  const loose = known.filter((k) => k.alias.toUpperCase() === folded);
  return loose.length === 1 ? loose[0]!.ifindex : null;
}

// ---------- planning ----------

export interface RegisterPlan {
  /** Results already decided (invalid input, no such interface, not ours), by input position. */
  results: (RegistrarResult | undefined)[];
  /** What to run, with the input position of each. */
  items: { index: number; item: RegisterItem }[];
}

export interface DeregisterPlan {
  results: (RegistrarResult | undefined)[];
  items: { index: number; item: IndexedAddress }[];
}

function fail(address: VirtualAddress, code: string, message: string): RegistrarResult {
  return { address, ok: false, code, message };
}

function checkInput(address: VirtualAddress): string | null {
  try {
    validateAlias(address.ifname);
    validateAddress(address.ip, address.prefix);
    validateLifetimes(address.validLftSec, address.preferredLftSec);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function notOurs(address: VirtualAddress, action: string): RegistrarResult {
  return fail(
    address,
    'ENOTOWNED',
    `refusing to ${action} ${address.ip}/${address.prefix} on ${JSON.stringify(address.ifname)}: it exists but is not one we added (no record, or not an active-store-only SkipAsSource address), so it belongs to someone else`,
  );
}

type Resolved = { index: number; address: VirtualAddress; ifindex: number; existing: InterfaceAddress | undefined };

function resolveAll(list: readonly VirtualAddress[], known: readonly KnownInterface[], current: readonly InterfaceAddress[], results: (RegistrarResult | undefined)[]): Resolved[] {
  const byKey = new Map(current.map((a) => [ownedKey(a.ifindex, a.ip, a.prefix), a]));
  const out: Resolved[] = [];
  list.forEach((address, index) => {
    const problem = checkInput(address);
    if (problem !== null) {
      results[index] = fail(address, 'EINVAL', problem);
      return;
    }
    const ifindex = resolveAlias(address.ifname, known);
    if (ifindex === null) {
      results[index] = fail(address, 'ENODEV', `no such interface: ${JSON.stringify(address.ifname)}`);
      return;
    }
    out.push({ index, address, ifindex, existing: byKey.get(ownedKey(ifindex, address.ip, address.prefix)) });
  });
  return out;
}

/**
 * register(): add what is missing, renew (Set-NetIPAddress) what is ours already, refuse what exists
 * and is not ours. `current` must be a fresh markOwnership() view.
 */
export function planRegister(list: readonly VirtualAddress[], known: readonly KnownInterface[], current: readonly InterfaceAddress[]): RegisterPlan {
  const results = new Array<RegistrarResult | undefined>(list.length);
  const items: RegisterPlan['items'] = [];
  for (const r of resolveAll(list, known, current, results)) {
    if (r.existing !== undefined && !r.existing.owned) {
      results[r.index] = notOurs(r.address, 'register');
      continue;
    }
    const item: RegisterItem = { action: r.existing === undefined ? 'add' : 'renew', ifindex: r.ifindex, ip: r.address.ip, prefix: r.address.prefix };
    if (r.address.validLftSec !== undefined) item.validLftSec = r.address.validLftSec;
    if (r.address.preferredLftSec !== undefined) item.preferredLftSec = r.address.preferredLftSec;
    items.push({ index: r.index, item });
  }
  return { results, items };
}

/** deregister(): absent counts as removed (idempotent); present and not ours is refused. */
export function planDeregister(list: readonly VirtualAddress[], known: readonly KnownInterface[], current: readonly InterfaceAddress[]): DeregisterPlan {
  const results = new Array<RegistrarResult | undefined>(list.length);
  const items: DeregisterPlan['items'] = [];
  for (const r of resolveAll(list, known, current, results)) {
    if (r.existing === undefined) results[r.index] = { address: r.address, ok: true };
    else if (!r.existing.owned) results[r.index] = notOurs(r.address, 'deregister');
    else items.push({ index: r.index, item: { ifindex: r.ifindex, ip: r.address.ip, prefix: r.address.prefix } });
  }
  return { results, items };
}

/** A Windows error from a script item as a registrar error code. */
export function windowsErrorCode(message: string, errorId: string): string {
  const text = `${message} ${errorId}`;
  if (text.includes(DEADLINE_MESSAGE)) return DEADLINE_PASSED;
  if (/Windows System Error 5\b|access is denied|0x80070005/i.test(text)) return 'EPERM';
  if (/already exists|Windows System Error 5010\b/i.test(text)) return 'EEXIST';
  if (/No matching MSFT_NetIPAddress|CmdletizationQuery_NotFound|ObjectNotFound/i.test(text)) return 'ENOENT';
  if (/Windows System Error 87\b|parameter is incorrect|Invalid parameter/i.test(text)) return 'EINVAL';
  return 'EIO';
}

// ---------- interface for a subnet ----------

/** Addresses Windows would not use to place a resource: DAD failed or not usable yet. */
const UNUSABLE_STATES: ReadonlySet<string> = new Set(['Duplicate', 'Invalid', 'Tentative']);

/**
 * The interface that has an address of its own (not ours, not loopback) in the subnet of ip/prefix;
 * for a /32 the host address's own prefix decides. Several: the lowest alias in code-unit order, so
 * the answer does not depend on listing order. null when none.
 */
/** IPv4 only (the backend's own question; the agent places IPv6 resources from listAll(..., 'both')). */
export function windowsInterfaceForSubnet(addresses: readonly WindowsAddress[], owned: ReadonlySet<string>, ip: string, prefix: number): string | null {
  validateIpv4(ip);
  validatePrefix(prefix);
  const candidates = new Set<string>();
  for (const a of addresses) {
    if (a.family !== 'IPv4' || owned.has(ownedKey(a.ifindex, a.ip, a.prefix)) || UNUSABLE_STATES.has(a.state)) continue;
    if (sameSubnet(a.ip, '127.0.0.0', 8)) continue;
    if (sameSubnet(ip, a.ip, prefix === 32 ? a.prefix : prefix)) candidates.add(a.alias);
  }
  const sorted = [...candidates].sort();
  return sorted[0] ?? null;
}
