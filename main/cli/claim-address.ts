// The address of `ipfo claim` and `ipfo probe`, IPv4 or IPv6, told apart by its text: an IPv6 address
// always has a ":", an IPv4 one never. Pure; every refusal is a UsageError (exit 2), before anything opens.
import { isIpv4, parseCidr } from '../arp/addresses';
import { canonicalIpv6, linkLocalProblem, notHostReason, parseIpv6Cidr } from '../nd/addresses';
import { UsageError } from './usage';

export interface ClaimAddress {
  family: 4 | 6;
  ip: string;
  prefix: number;
}

/** A link-local address is refused like the other addresses no node may hold for a cluster (nd/addresses.ts). */
function refuseLinkLocal(ip: string): void {
  const problem = linkLocalProblem(ip);
  if (problem !== null) throw new UsageError(problem);
}

/** "<ip>/<prefix>" for `ipfo claim`. */
export function parseClaimCidr(text: string): ClaimAddress {
  if (!text.includes('/')) throw new UsageError(`claim needs <ip>/<prefix>, got "${text}"`);
  if (text.includes(':')) {
    let parsed: { ip: string; prefix: number };
    try {
      parsed = parseIpv6Cidr(text);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    refuseLinkLocal(parsed.ip);
    return { family: 6, ...parsed };
  }
  let parsed: { ip: string; prefix: number };
  try {
    parsed = parseCidr(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.ip === '0.0.0.0') throw new UsageError('cannot claim 0.0.0.0');
  return { family: 4, ...parsed };
}

/**
 * "<ip>" for `ipfo probe`: a probe asks about one address and takes no prefix (IPv4 comes out /32, IPv6
 * /128). A refusal says what is wrong with the address itself: there is no prefix to blame.
 */
export function parseProbeAddress(text: string): ClaimAddress {
  if (text.includes(':')) {
    if (text.includes('/')) throw new UsageError(`invalid IPv6 address "${text}": a probe takes an address without a prefix`);
    let ip: string;
    try {
      ip = canonicalIpv6(text);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const reason = notHostReason(ip);
    if (reason !== null) throw new UsageError(`cannot probe "${ip}": ${reason}`);
    refuseLinkLocal(ip);
    return { family: 6, ip, prefix: 128 };
  }
  if (!isIpv4(text) || text === '0.0.0.0') throw new UsageError(`invalid IPv4 address "${text}"`);
  return { family: 4, ip: text, prefix: 32 };
}
