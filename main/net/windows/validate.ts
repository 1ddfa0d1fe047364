// Checks of everything that goes into a Windows command, before anything is built. Pure.
// Every refusal is a WindowsInputError whose message can be shown to an administrator as it is.
import { isIpv4 } from '../../arp/addresses';
import { isCanonicalIpv6, isIpv6, notHostReason } from '../../nd/addresses';
import { windowsArgProblem } from './quote';

/** A caller mistake (bad alias, address, prefix, lifetime, index). code is always 'EINVAL'. */
export class WindowsInputError extends Error {
  readonly code = 'EINVAL';
  override name = 'WindowsInputError';
}

/** NDIS_IF_MAX_STRING_SIZE: the longest interface alias Windows stores. */
export const MAX_ALIAS_LENGTH = 256;
/** Lifetimes are ULONG seconds in MIB_UNICASTIPADDRESS_ROW; 0xffffffff means infinite. */
export const MAX_FINITE_LIFETIME_SEC = 0xfffffffe;

const MAX_SHOWN = 64;

/** Untrusted text for an error message: escaped, bounded, one line. */
export function shown(value: unknown): string {
  if (typeof value !== 'string') return `(${value === null ? 'null' : typeof value})`;
  return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}...` : value);
}

/**
 * An interface alias is user text ("Ethernet – Büro", "以太网", `a "quoted" name\`): spaces, quotes,
 * backslashes, %, ^, &, |, <, > and non-ASCII are all allowed and carried literally. Refused: empty,
 * longer than Windows allows, NUL / control characters (not in any alias Windows lets you set, and
 * a line break would forge lines in netsh's output) and lone surrogates.
 */
export function validateAlias(alias: string): void {
  if (typeof alias !== 'string') throw new WindowsInputError(`interface alias must be a string, got ${shown(alias)}`);
  if (alias.length === 0) throw new WindowsInputError('interface alias is empty');
  if (alias.length > MAX_ALIAS_LENGTH) throw new WindowsInputError(`interface alias ${shown(alias)} is longer than ${MAX_ALIAS_LENGTH} characters`);
  const problem = windowsArgProblem(alias);
  if (problem !== null) throw new WindowsInputError(`interface alias ${shown(alias)} ${problem}`);
  const control = /[\p{Cc}\u2028\u2029]/u.exec(alias);
  if (control !== null) {
    const code = control[0].codePointAt(0) ?? 0;
    throw new WindowsInputError(`interface alias ${shown(alias)} contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`);
  }
}

export function validateIfindex(ifindex: number): void {
  // NET_IFINDEX is a ULONG; 0 is NET_IFINDEX_UNSPECIFIED.
  if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0xffffffff) {
    throw new WindowsInputError(`interface index must be an integer 1..4294967295, got ${String(ifindex)}`);
  }
}

export function validateIpv4(ip: string): void {
  if (!isIpv4(ip)) throw new WindowsInputError(`not an IPv4 dotted quad (4 decimal octets 0-255, no leading zeros): ${shown(ip)}`);
}

/**
 * An IPv6 address as the agent speaks it (issue 18): RFC 5952 text only ("2001:db8::5", lower case,
 * no zone: `%12` would be a scope, and a second spelling of one address would be a second address to
 * the records), and one a host can hold (not ::, ::1, multicast or IPv4-mapped).
 */
export function validateIpv6(ip: string): void {
  if (!isIpv6(ip)) throw new WindowsInputError(`not an IPv6 address: ${shown(ip)}`);
  if (!isCanonicalIpv6(ip)) throw new WindowsInputError(`IPv6 address ${shown(ip)} is not in RFC 5952 form (lower case, :: for the longest run of zeros, no zone)`);
  const reason = notHostReason(ip);
  if (reason !== null) throw new WindowsInputError(`IPv6 address ${shown(ip)} cannot be held: ${reason}`);
}

export type AddressFamily = 'IPv4' | 'IPv6';

/** The family of an address the agent asks for: IPv4 dotted quad or RFC 5952 IPv6; anything else is refused. */
export function validateIp(ip: string): AddressFamily {
  if (typeof ip === 'string' && ip.includes(':')) {
    validateIpv6(ip);
    return 'IPv6';
  }
  validateIpv4(ip);
  return 'IPv4';
}

export function validatePrefix(prefix: number, family: AddressFamily = 'IPv4'): void {
  const max = family === 'IPv6' ? 128 : 32;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new WindowsInputError(`prefix must be an integer 0..${max}, got ${String(prefix)}`);
}

/** An address and its prefix, either family; returns the family (the -AddressFamily of its cmdlet). */
export function validateAddress(ip: string, prefix: number): AddressFamily {
  const family = validateIp(ip);
  validatePrefix(prefix, family);
  return family;
}

/**
 * Lifetimes in seconds; undefined = infinite. Windows refuses a preferred lifetime longer than the
 * valid one, and its default preferred lifetime is infinite, so callers pass preferred = valid when
 * only valid is set (resolveLifetimes).
 */
export function validateLifetimes(validLftSec: number | undefined, preferredLftSec: number | undefined): void {
  const check = (value: number | undefined, min: number, what: string): void => {
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > MAX_FINITE_LIFETIME_SEC) {
      throw new WindowsInputError(`${what} must be an integer ${min}..${MAX_FINITE_LIFETIME_SEC} seconds (leave it out for infinite), got ${String(value)}`);
    }
  };
  check(validLftSec, 1, 'validLftSec');
  check(preferredLftSec, 0, 'preferredLftSec');
  if (validLftSec !== undefined && preferredLftSec !== undefined && preferredLftSec > validLftSec) {
    throw new WindowsInputError(`preferredLftSec (${preferredLftSec}) must not exceed validLftSec (${validLftSec})`);
  }
}

/** Both lifetimes as Windows wants them: null = infinite; preferred defaults to valid (as on Linux). */
export function resolveLifetimes(validLftSec: number | undefined, preferredLftSec: number | undefined): { validSec: number | null; preferredSec: number | null } {
  validateLifetimes(validLftSec, preferredLftSec);
  if (validLftSec === undefined) return { validSec: null, preferredSec: preferredLftSec ?? null };
  return { validSec: validLftSec, preferredSec: preferredLftSec ?? validLftSec };
}

/** An absolute Windows directory such as C:\Windows, for building tool paths from %SystemRoot%. */
export function validateSystemRoot(systemRoot: string): void {
  if (typeof systemRoot !== 'string' || !/^[A-Za-z]:\\[^"<>|?*\p{Cc}]*$/u.test(systemRoot) || systemRoot.includes('\\..')) {
    throw new WindowsInputError(`SystemRoot must be an absolute path like C:\\Windows, got ${shown(systemRoot)}`);
  }
}
