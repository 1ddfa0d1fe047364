// Dotted-quad helpers for sorting and quick form checks (the agent's validate.ts has the full rules).

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);

export function isIpv4(text: string): boolean {
  return IPV4.test(text);
}

/** The address as an unsigned 32-bit number, or -1 when it is not a dotted quad. */
export function ipv4ToNumber(text: string): number {
  if (!isIpv4(text)) return -1;
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

export function compareIpv4(a: string, b: string): number {
  return ipv4ToNumber(a) - ipv4ToNumber(b);
}
