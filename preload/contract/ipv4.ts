// The dotted quad as the contract accepts it (decimal, no leading zeros), for the agent, the CLI and
// the console alike. The cluster's rules about an address (network address, subnet...) stay in
// main/cluster/validate.ts.

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_PATTERN = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

export function isIpv4(text: string): boolean {
  return IPV4_PATTERN.test(text);
}

/** The address as an unsigned 32-bit number, or -1 when it is not a dotted quad. */
export function ipv4ToNumber(text: string): number {
  if (!isIpv4(text)) return -1;
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

/** Numeric order ("10.0.0.9" before "10.0.0.10"); anything not a dotted quad first. */
export function compareIpv4(a: string, b: string): number {
  return ipv4ToNumber(a) - ipv4ToNumber(b);
}
