// Typed loader for the rtnetlink addon (main/native/netlink.c, built by `npm run build:native`).
// The addon is written against N-API, which is ABI-stable: the same .node binary loads in
// Node and in Electron, so it is never rebuilt per runtime.
// Every call is synchronous and acts on the network namespace of the calling process.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** One address to add. Lifetimes are seconds; leave them out for "forever". */
export interface NetlinkAddressSpec {
  ifindex: number;
  /**
   * Dotted quad, or IPv6 text (any spelling; a ':' tells the family). An IPv6 address is added with
   * IFA_F_NODAD: the agent has probed for duplicates already, and a tentative address answers nobody.
   */
  address: string;
  /** 0..32, or 0..128 for IPv6. */
  prefix: number;
  /** IFA_PROTO mark, 0..255. */
  proto: number;
  validLft?: number;
  /** Defaults to validLft: an address past its preferred lifetime is deprecated, never chosen as a source. */
  preferredLft?: number;
  /** IPv4 only (IPv6 has no labels). At most 15 bytes; defaults to the interface name. */
  label?: string;
}

/** What identifies an address for removal: (ifindex, address, prefix[, label]). */
export interface NetlinkAddressKey {
  ifindex: number;
  address: string;
  prefix: number;
  label?: string;
}

export type NetlinkItemResult =
  | { ok: true }
  | { ok: false; code: string; errno: number; message: string };

/** Which families a listing dumps: 4, 6, or 0 for both (IPv4 first). */
export type NetlinkFamilies = 0 | 4 | 6;

/** One address as the kernel reports it. */
export interface NetlinkAddress {
  ifindex: number;
  /** Dotted quad, or IPv6 text as glibc's inet_ntop writes it (not always RFC 5952: canonicalise before comparing). */
  address: string;
  prefix: number;
  /** IFA_PROTO, 0 when the kernel reports none. */
  proto: number;
  label: string;
  /** Remaining seconds; null = forever. */
  validLft: number | null;
  preferredLft: number | null;
  /** IFA_F_* bits (IFA_F_SECONDARY = 0x01, IFA_F_NODAD = 0x02, IFA_F_TENTATIVE = 0x40, IFA_F_PERMANENT = 0x80, ...). */
  flags: number;
}

export interface NetlinkAddon {
  /**
   * RTM_NEWADDR with CREATE|REPLACE, whole batch per sendmsg; one result per item, in order. With
   * `notAfterNs` (CLOCK_MONOTONIC ns, as process.hrtime.bigint()), a round not sent by then is not sent:
   * its items fail with code ETIME.
   */
  addAddresses(list: readonly NetlinkAddressSpec[], notAfterNs?: bigint): NetlinkItemResult[];
  /** RTM_DELADDR; an address that is not there counts as removed. */
  removeAddresses(list: readonly NetlinkAddressKey[]): NetlinkItemResult[];
  /**
   * Every address of the interface (0 = all) of `families` (default 4: IPv4 only), or only the given
   * ones (at most 256, either family). Throws an Error with .code/.errno.
   */
  listAddresses(ifindex: number, onlyAddresses?: readonly string[], families?: NetlinkFamilies): NetlinkAddress[];
}

export const NATIVE_ADDON_MISSING_MESSAGE = 'native netlink addon not built: run npm run build:native';

export class NativeAddonMissingError extends Error {
  readonly code = 'ENATIVEMISSING';
  constructor(readonly triedPaths: readonly string[]) {
    super(`${NATIVE_ADDON_MISSING_MESSAGE} (looked for ${triedPaths.join(', ')})`);
    this.name = 'NativeAddonMissingError';
  }
}

// build/main/net/ -> repository root -> main/native/build/<config>/.
const repositoryRoot = path.resolve(__dirname, '..', '..', '..');
export const DEFAULT_ADDON_PATHS: readonly string[] = ['Release', 'Debug'].map((config) =>
  path.join(repositoryRoot, 'main', 'native', 'build', config, 'ipfo_netlink.node'),
);

/** Loads the first addon file that exists; throws NativeAddonMissingError when none does. */
export function loadNetlinkAddonFrom(candidates: readonly string[]): NetlinkAddon {
  const file = candidates.find((candidate) => existsSync(candidate));
  if (file === undefined) throw new NativeAddonMissingError(candidates);
  // A file that exists but fails to load is not "not built": let dlopen's own reason through.
  const holder: { exports: unknown } = { exports: {} };
  process.dlopen(holder, file);
  return holder.exports as NetlinkAddon;
}

let loaded: NetlinkAddon | undefined;

/** The addon, loaded on first use. */
export function netlink(): NetlinkAddon {
  loaded ??= loadNetlinkAddonFrom(DEFAULT_ADDON_PATHS);
  return loaded;
}
