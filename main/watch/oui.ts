// Vendor names from a MAC's OUI (its first three bytes), for the ARP watch's binding table. Pure: the
// table is handed in (main/agent/oui-directory.ts reads the shipped resources/oui/oui.tsv).
import type { Mac } from '../arp/frame';

export const LOCALLY_ADMINISTERED = '(locally administered)';
export const MULTICAST = '(multicast)';

export type VendorLookup = (mac: Mac) => string | null;

/** "MAC (Vendor)"; the table's own parenthesised names ("(locally administered)") as they are, never doubled. */
export function withVendor(mac: Mac, vendor: string | null): string {
  if (vendor === null || vendor === '') return mac;
  return vendor.startsWith('(') ? `${mac} ${vendor}` : `${mac} (${vendor})`;
}

/** Value of one hex digit's char code, or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87; // a-f
  return -1;
}

/** Where the six hex digits of the OUI sit in "aa:bb:cc:dd:ee:ff". */
const OUI_DIGIT_POSITIONS = [0, 1, 3, 4, 6, 7] as const;

/** First three bytes of a canonical "aa:bb:cc:..." MAC as a 24-bit number, or -1 if malformed. No allocation. */
export function ouiOf(mac: Mac): number {
  let value = 0;
  for (const at of OUI_DIGIT_POSITIONS) {
    const digit = hexValue(mac.charCodeAt(at));
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

/** Parses "AABBCC<TAB>Vendor" lines; '#' lines and blank lines are comments. */
export function parseOuiTable(text: string): Map<number, string> {
  const table = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const tab = line.indexOf('\t');
    const key = tab === 6 ? Number.parseInt(line.slice(0, 6), 16) : Number.NaN;
    if (Number.isNaN(key)) throw new Error(`bad OUI table line: ${JSON.stringify(line.slice(0, 40))}`);
    table.set(key, line.slice(7).trimEnd());
  }
  return table;
}

/**
 * Vendor of the MAC's OUI from `table` (asked only for universal unicast OUIs, so a watch that never
 * meets one never loads it). The individual/group and universal/local bits of the first octet are
 * checked first: such MACs have no registered vendor. Multicast wins when both are set
 * (ff:ff:ff:ff:ff:ff), since a group address as a sender is the stranger fact. Unknown or malformed -> null.
 */
export function vendorLookup(table: () => ReadonlyMap<number, string>): VendorLookup {
  return (mac) => {
    const oui = ouiOf(mac);
    if (oui < 0) return null;
    const firstOctet = oui >>> 16;
    if (firstOctet & 0x01) return MULTICAST;
    if (firstOctet & 0x02) return LOCALLY_ADMINISTERED;
    return table().get(oui) ?? null;
  };
}
