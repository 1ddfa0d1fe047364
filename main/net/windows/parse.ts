// Parsers for what the Windows tools print. Pure. Anything that is not the expected shape is refused
// with a WindowsParseError naming the tool, the item and the field: a misread address list is a
// failover that deletes the wrong address.
//
// Shapes handled (Windows PowerShell 5.1 and PowerShell 7):
// - ConvertTo-Json prints ONE object, not an array, when the pipeline carried one item, and nothing at
//   all for none; an array stays an array. All three are accepted everywhere.
// - Enums (PrefixOrigin, AddressState, ...) are numbers by default, names with -EnumsAsStrings.
// - TimeSpans are objects {Ticks, Days, ..., TotalSeconds}; the infinite lifetime is TimeSpan.MaxValue
//   (Ticks 9223372036854775807, which JSON.parse rounds up to 2^63). "Infinite" (how Format-Table shows
//   it) and "d.hh:mm:ss" strings are accepted too.
import { canonicalMac, isIpv4, isMac } from '../../arp/addresses';
import { canonicalIpv6, isIpv6 } from '../../nd/addresses';
import { shown } from './validate';

export class WindowsParseError extends Error {
  override name = 'WindowsParseError';
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return shown(value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** One object or an array of objects (ConvertTo-Json unwraps a single item); null = none. */
export function jsonItems(value: unknown, tool: string): JsonObject[] {
  if (value === null) return [];
  const items = Array.isArray(value) ? (value as unknown[]) : [value];
  return items.map((item, at) => {
    if (!isObject(item)) throw new WindowsParseError(`${tool}: item ${at + 1} is ${describe(item)}, expected an object`);
    return item;
  });
}

function field(item: JsonObject, names: readonly string[]): Json | undefined {
  for (const name of names) if (Object.hasOwn(item, name)) return item[name];
  return undefined;
}

// ---------- TimeSpan ----------

const TICKS_PER_SECOND = 10_000_000;
/** TimeSpan.MaxValue.Ticks is 2^63 - 1; as a double it is 2^63. Anything this large is "infinite". */
const MAX_TICKS = 2 ** 63;
/** 0xffffffff seconds is the IP helper's INFINITE lifetime. */
const INFINITE_SECONDS = 0xffffffff;
const TIMESPAN_TEXT = /^(-)?(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Seconds (whole, rounded down) of a TimeSpan as ConvertTo-Json prints it; null = infinite. */
export function parseTimeSpan(value: unknown, what: string): number | null {
  let seconds: number;
  if (isObject(value)) {
    const ticks = value.Ticks;
    const total = value.TotalSeconds;
    if (typeof ticks === 'number' && Number.isFinite(ticks)) {
      if (ticks >= MAX_TICKS * 0.999) return null;
      seconds = Math.floor(ticks / TICKS_PER_SECOND);
    } else if (typeof total === 'number' && Number.isFinite(total)) {
      seconds = Math.floor(total);
    } else {
      throw new WindowsParseError(`${what}: a TimeSpan object needs a numeric Ticks or TotalSeconds`);
    }
  } else if (typeof value === 'string') {
    if (/^infinite$/i.test(value.trim())) return null;
    const match = TIMESPAN_TEXT.exec(value.trim());
    if (match === null) throw new WindowsParseError(`${what}: expected "Infinite" or a TimeSpan like "1.02:03:04", got ${shown(value)}`);
    const [, minus, days, hours, minutes, secs] = match;
    if (Number(hours) > 23 || Number(minutes) > 59 || Number(secs) > 59) throw new WindowsParseError(`${what}: ${shown(value)} is not a valid TimeSpan`);
    seconds = Number(days ?? '0') * 86_400 + Number(hours) * 3600 + Number(minutes) * 60 + Number(secs);
    if (minus !== undefined) seconds = -seconds;
    if (seconds >= 922_337_203_685) return null; // "10675199.02:48:05.4775807" = TimeSpan.MaxValue
  } else {
    throw new WindowsParseError(`${what}: expected a TimeSpan object or "Infinite", got ${describe(value)}`);
  }
  if (seconds < 0) throw new WindowsParseError(`${what}: negative lifetime ${seconds} s`);
  return seconds >= INFINITE_SECONDS ? null : seconds;
}

// ---------- enums ----------

const PREFIX_ORIGINS = ['Other', 'Manual', 'WellKnown', 'Dhcp', 'RouterAdvertisement'] as const;
const SUFFIX_ORIGINS = ['Other', 'Manual', 'WellKnown', 'Dhcp', 'Link', 'Random'] as const;
const ADDRESS_STATES = ['Invalid', 'Tentative', 'Duplicate', 'Deprecated', 'Preferred'] as const;
const ADDRESS_TYPES = { 1: 'Unicast', 2: 'Anycast' } as const;

function enumName(value: Json | undefined, names: readonly string[] | Readonly<Record<number, string>>, what: string): string {
  const list: Readonly<Record<number, string>> = names;
  if (typeof value === 'number' && Number.isInteger(value) && Object.hasOwn(list, value)) return list[value]!;
  if (typeof value === 'string') {
    const found = Object.values(list).find((name) => name.toLowerCase() === value.toLowerCase());
    if (found !== undefined) return found;
  }
  throw new WindowsParseError(`${what}: unknown value ${describe(value)}`);
}

// ---------- Get-NetIPAddress ----------

export type PrefixOrigin = (typeof PREFIX_ORIGINS)[number];
export type AddressState = (typeof ADDRESS_STATES)[number];

/** One address from Get-NetIPAddress (IPv6: RFC 5952 text, the zone of a link-local one stripped). */
export interface WindowsAddress {
  family: 'IPv4' | 'IPv6';
  ifindex: number;
  alias: string;
  ip: string;
  prefix: number;
  prefixOrigin: PrefixOrigin;
  suffixOrigin: string;
  state: AddressState;
  type: string;
  skipAsSource: boolean;
  /** Remaining seconds; null = infinite. */
  validLftSec: number | null;
  preferredLftSec: number | null;
  /** "ActiveStore" or "PersistentStore". */
  store: string;
}

function isIpv6Item(item: JsonObject): boolean {
  const family = item.AddressFamily;
  if (family === 23 || (typeof family === 'string' && /^ipv6$/i.test(family))) return true;
  if (family === undefined || family === null) {
    const ip = field(item, ['IPAddress', 'IPv4Address']);
    return typeof ip === 'string' && ip.includes(':');
  }
  return false;
}

/** PolicyStore ("ActiveStore") when present, else the CIM property Store (0 Persistent, 1 Active); neither = active. */
function storeName(item: JsonObject, what: string): string {
  const policy = item.PolicyStore;
  if (typeof policy === 'string' && policy !== '') return policy;
  const store = item.Store;
  if (store === undefined || store === null) return 'ActiveStore';
  if (store === 0 || store === 'Persistent' || store === 'PersistentStore') return 'PersistentStore';
  if (store === 1 || store === 'Active' || store === 'ActiveStore') return 'ActiveStore';
  throw new WindowsParseError(`${what}: expected 0 (persistent) or 1 (active), got ${describe(store)}`);
}

/**
 * An IPv6 address as Get-NetIPAddress or netsh prints it, in RFC 5952 form: a link-local one carries
 * its zone ("fe80::1c2b:3d4e:5f60:7182%12", the interface index), which is stripped (the row names the
 * interface already); a zone that is not a number, or a zone on a global address, is refused.
 */
export function windowsIpv6(text: unknown, what: string): string {
  if (typeof text !== 'string') throw new WindowsParseError(`${what}: not an IPv6 address: ${describe(text)}`);
  const zoned = /^([^%]*)%(\d{1,10})$/.exec(text);
  const bare = zoned === null ? text : zoned[1]!;
  if (!isIpv6(bare)) throw new WindowsParseError(`${what}: not an IPv6 address: ${describe(text)}`);
  const ip = canonicalIpv6(bare);
  if (zoned !== null && !/^fe[89ab]/.test(ip)) throw new WindowsParseError(`${what}: a zone on an address that is not link-local: ${describe(text)}`);
  return ip;
}

/** Get-NetIPAddress | ConvertTo-Json, as parsed JSON (one object, an array, or null): IPv4 and IPv6 items. */
export function netIPAddressesFromJson(value: unknown, tool = 'Get-NetIPAddress'): WindowsAddress[] {
  const out: WindowsAddress[] = [];
  jsonItems(value, tool).forEach((item, at) => {
    const what = (name: string): string => `${tool}: item ${at + 1} ${name}`;
    const v6 = isIpv6Item(item);
    const family = item.AddressFamily;
    if (!v6 && family !== undefined && family !== null && family !== 2 && !(typeof family === 'string' && /^ipv4$/i.test(family))) {
      throw new WindowsParseError(`${what('AddressFamily')}: expected 2 (IPv4) or 23 (IPv6), got ${describe(family)}`);
    }
    const rawIp = v6 ? field(item, ['IPAddress', 'IPv6Address']) : field(item, ['IPAddress', 'IPv4Address']);
    if (!v6 && !isIpv4(rawIp)) throw new WindowsParseError(`${what('IPAddress')}: not an IPv4 address: ${describe(rawIp)}`);
    const ip = v6 ? windowsIpv6(rawIp, what('IPAddress')) : (rawIp as string);
    const ifindex = field(item, ['InterfaceIndex', 'ifIndex']);
    if (typeof ifindex !== 'number' || !Number.isInteger(ifindex) || ifindex < 1) throw new WindowsParseError(`${what('InterfaceIndex')}: expected a positive integer, got ${describe(ifindex)}`);
    const alias = field(item, ['InterfaceAlias']);
    if (typeof alias !== 'string') throw new WindowsParseError(`${what('InterfaceAlias')}: expected text, got ${describe(alias)}`);
    const prefix = item.PrefixLength;
    const maxPrefix = v6 ? 128 : 32;
    if (typeof prefix !== 'number' || !Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) throw new WindowsParseError(`${what('PrefixLength')}: expected an integer 0..${maxPrefix}, got ${describe(prefix)}`);
    const skip = item.SkipAsSource;
    if (typeof skip !== 'boolean') throw new WindowsParseError(`${what('SkipAsSource')}: expected true or false, got ${describe(skip)}`);
    const store = storeName(item, what('Store'));
    out.push({
      family: v6 ? 'IPv6' : 'IPv4',
      ifindex,
      alias,
      ip,
      prefix,
      prefixOrigin: enumName(item.PrefixOrigin, PREFIX_ORIGINS, what('PrefixOrigin')) as PrefixOrigin,
      suffixOrigin: enumName(item.SuffixOrigin, SUFFIX_ORIGINS, what('SuffixOrigin')),
      state: enumName(item.AddressState, ADDRESS_STATES, what('AddressState')) as AddressState,
      type: item.Type === undefined ? 'Unicast' : enumName(item.Type, ADDRESS_TYPES, what('Type')),
      skipAsSource: skip,
      validLftSec: parseTimeSpan(item.ValidLifetime, what('ValidLifetime')),
      preferredLftSec: parseTimeSpan(item.PreferredLifetime, what('PreferredLifetime')),
      store,
    });
  });
  return out;
}

/** The text of `Get-NetIPAddress | ConvertTo-Json`. */
export function parseNetIPAddressJson(text: string): WindowsAddress[] {
  const tool = 'Get-NetIPAddress';
  const trimmed = typeof text === 'string' ? text.replace(/^\uFEFF/, '').trim() : text;
  return netIPAddressesFromJson(trimmed === '' ? null : parseJsonValue(trimmed, tool), tool);
}

function parseJsonValue(text: string, tool: string): unknown {
  if (typeof text !== 'string') throw new WindowsParseError(`${tool}: output is not text`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WindowsParseError(`${tool}: output is not JSON (${(error as Error).message}); it starts with ${shown(text.slice(0, 40))}`);
  }
}

// ---------- Get-NetAdapter ----------

export interface WindowsAdapter {
  /** The interface alias ("Ethernet 2"). */
  name: string;
  ifindex: number;
  description: string;
  /** "{4D36E972-...}" or null when not listed. */
  guid: string | null;
  /** Canonical "00:15:5d:01:02:03"; null for adapters without one. */
  mac: string | null;
  status: string;
}

const GUID = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;

/** Get-NetAdapter | ConvertTo-Json, as parsed JSON. MacAddress "00-15-5D-01-02-03" → "00:15:5d:01:02:03". */
export function netAdaptersFromJson(value: unknown, tool = 'Get-NetAdapter'): WindowsAdapter[] {
  return jsonItems(value, tool).map((item, at) => {
    const what = (name: string): string => `${tool}: item ${at + 1} ${name}`;
    const name = field(item, ['Name', 'InterfaceAlias', 'ifAlias']);
    if (typeof name !== 'string' || name === '') throw new WindowsParseError(`${what('Name')}: expected text, got ${describe(name)}`);
    const ifindex = field(item, ['ifIndex', 'InterfaceIndex']);
    if (typeof ifindex !== 'number' || !Number.isInteger(ifindex) || ifindex < 1) throw new WindowsParseError(`${what('ifIndex')}: expected a positive integer, got ${describe(ifindex)}`);
    const rawMac = item.MacAddress;
    let mac: string | null = null;
    if (typeof rawMac === 'string' && rawMac !== '') {
      if (!isMac(rawMac)) throw new WindowsParseError(`${what('MacAddress')}: not a MAC address: ${describe(rawMac)}`);
      mac = canonicalMac(rawMac);
    } else if (rawMac !== undefined && rawMac !== null && rawMac !== '') {
      throw new WindowsParseError(`${what('MacAddress')}: expected text, got ${describe(rawMac)}`);
    }
    const guid = item.InterfaceGuid;
    if (guid !== undefined && guid !== null && (typeof guid !== 'string' || !GUID.test(guid))) throw new WindowsParseError(`${what('InterfaceGuid')}: expected "{xxxxxxxx-xxxx-...}", got ${describe(guid)}`);
    const description = item.InterfaceDescription;
    const status = item.Status;
    return {
      name,
      ifindex,
      description: typeof description === 'string' ? description : '',
      guid: typeof guid === 'string' ? guid.toUpperCase() : null,
      mac,
      status: typeof status === 'string' ? status : typeof status === 'number' ? String(status) : 'Unknown',
    };
  });
}

/** The text of `Get-NetAdapter | ConvertTo-Json`. */
export function parseNetAdapterJson(text: string): WindowsAdapter[] {
  const tool = 'Get-NetAdapter';
  const trimmed = typeof text === 'string' ? text.replace(/^\uFEFF/, '').trim() : text;
  return netAdaptersFromJson(trimmed === '' ? null : parseJsonValue(trimmed, tool), tool);
}

// ---------- our PowerShell answer envelope (commands.ts) ----------

export type PowerShellAnswer = { ok: true; value: unknown } | { ok: false; message: string; errorId: string };

/** One line of base64 (UTF-8 JSON inside) as the scripts in commands.ts print it. */
export function decodePowerShellAnswer(stdout: string): PowerShellAnswer {
  const tool = 'PowerShell';
  const text = typeof stdout === 'string' ? stdout.trim() : '';
  if (text === '') throw new WindowsParseError(`${tool}: no answer on stdout`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new WindowsParseError(`${tool}: answer is not one line of base64; it starts with ${shown(text.slice(0, 40))}`);
  }
  const value = parseJsonValue(Buffer.from(text, 'base64').toString('utf8'), tool);
  if (!isObject(value) || typeof value.ok !== 'boolean') throw new WindowsParseError(`${tool}: answer is not {ok, ...}`);
  if (value.ok) return { ok: true, value: value.value ?? null };
  return { ok: false, message: typeof value.message === 'string' ? value.message : 'unknown error', errorId: typeof value.errorId === 'string' ? value.errorId : '' };
}

// ---------- netsh (English output) ----------

export interface NetshAddress {
  alias: string;
  ip: string;
  prefix: number;
}

const CONFIG_HEADER = /^Configuration for interface "(.*)"\s*$/;

/**
 * `netsh interface ipv4 show addresses`: blocks of `Configuration for interface "<name>"` followed by
 * `IP Address:` / `Subnet Prefix: a.b.c.d/n (mask ...)` pairs. The name is everything between the
 * first and the LAST quote of the header line, so names containing quotes survive. netsh prints in
 * the OEM code page and in the UI language: other languages are refused, not guessed.
 */
export function parseNetshShowAddresses(text: string): NetshAddress[] {
  const tool = 'netsh show addresses';
  if (typeof text !== 'string') throw new WindowsParseError(`${tool}: output is not text`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: NetshAddress[] = [];
  let alias: string | null = null;
  let pendingIp: { ip: string; line: number } | null = null;
  const flush = (): void => {
    if (pendingIp !== null) throw new WindowsParseError(`${tool}: line ${pendingIp.line}: IP Address ${pendingIp.ip} has no Subnet Prefix line`);
  };
  lines.forEach((raw, at) => {
    const line = raw.trimEnd();
    const number = at + 1;
    if (line.trim() === '') return;
    const header = CONFIG_HEADER.exec(line);
    if (header !== null) {
      flush();
      alias = header[1]!;
      return;
    }
    if (alias === null) {
      throw new WindowsParseError(`${tool}: line ${number}: expected 'Configuration for interface "<name>"' (English netsh output), got ${shown(line.trim())}`);
    }
    if (!/^\s/.test(line)) throw new WindowsParseError(`${tool}: line ${number}: unexpected ${shown(line)} outside an interface block`);
    const pair = /^\s+([^:]+):\s*(.*)$/.exec(line);
    if (pair === null) throw new WindowsParseError(`${tool}: line ${number}: expected "Name: value", got ${shown(line.trim())}`);
    const key = pair[1]!.trim();
    const value = pair[2]!.trim();
    if (key === 'IP Address') {
      flush();
      if (!isIpv4(value)) throw new WindowsParseError(`${tool}: line ${number}: IP Address is not IPv4: ${shown(value)}`);
      pendingIp = { ip: value, line: number };
    } else if (key === 'Subnet Prefix') {
      const prefix = /^(\S+)\/(\d{1,2})\s+\(mask (\S+)\)$/.exec(value);
      if (prefix === null || !isIpv4(prefix[1]) || Number(prefix[2]) > 32) throw new WindowsParseError(`${tool}: line ${number}: expected "a.b.c.d/n (mask m.m.m.m)", got ${shown(value)}`);
      if (pendingIp === null) throw new WindowsParseError(`${tool}: line ${number}: Subnet Prefix without an IP Address before it`);
      out.push({ alias, ip: pendingIp.ip, prefix: Number(prefix[2]) });
      pendingIp = null;
    }
    // Other lines (DHCP enabled, Default Gateway, Gateway Metric, InterfaceMetric) are not needed.
  });
  flush();
  return out;
}

export interface NetshInterfaceRow {
  ifindex: number;
  metric: number;
  mtu: number;
  state: string;
  alias: string;
}

/**
 * `netsh interface ipv4 show interfaces`: a table `Idx Met MTU State Name`. The name is the rest of
 * the line (it may contain spaces); trailing spaces of a name cannot be told from padding.
 */
export function parseNetshShowInterfaces(text: string): NetshInterfaceRow[] {
  const tool = 'netsh show interfaces';
  if (typeof text !== 'string') throw new WindowsParseError(`${tool}: output is not text`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).map((line) => line.trimEnd());
  const headerAt = lines.findIndex((line) => /^\s*Idx\s+Met\s+MTU\s+State\s+Name\s*$/.test(line));
  if (headerAt < 0) throw new WindowsParseError(`${tool}: no "Idx Met MTU State Name" header (English netsh output expected)`);
  if (!/^[\s-]+$/.test(lines[headerAt + 1] ?? '')) throw new WindowsParseError(`${tool}: the header is not followed by a "---" line`);
  const out: NetshInterfaceRow[] = [];
  for (let at = headerAt + 2; at < lines.length; at++) {
    const line = lines[at]!;
    if (line.trim() === '') continue;
    const row = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\S.*)$/.exec(line);
    if (row === null) throw new WindowsParseError(`${tool}: line ${at + 1}: expected "Idx Met MTU State Name", got ${shown(line.trim())}`);
    const ifindex = Number(row[1]);
    if (ifindex < 1 || ifindex > 0xffffffff) throw new WindowsParseError(`${tool}: line ${at + 1}: bad index ${row[1]!}`);
    out.push({ ifindex, metric: Number(row[2]), mtu: Number(row[3]), state: row[4]!, alias: row[5]! });
  }
  return out;
}

export interface NetshIpv6Address {
  ifindex: number;
  alias: string;
  /** RFC 5952, zone stripped. */
  ip: string;
  /** "Manual", "Public", "Temporary", "Dhcp", "Link", "Other", ... as netsh prints it. */
  type: string;
  state: AddressState;
}

const IPV6_INTERFACE_HEADER = /^Interface (\d+): (.*)$/;
const IPV6_TABLE_HEADER = /^Addr Type\s+DAD State\s+Valid Life\s+Pref\. Life\s+Address$/;
/** "infinite", or netsh's "1d2h3m4s" style (any of the parts). */
const NETSH_LIFE = /^(?:infinite|(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?)$/;

/**
 * `netsh interface ipv6 show addresses`: per interface a line `Interface <index>: <name>`, then the table
 * `Addr Type  DAD State   Valid Life Pref. Life Address`, a dashed line and one row per address:
 * `Manual     Preferred     infinite   infinite 2001:db8:10::50`. netsh prints NO prefix length here
 * (the backend takes it from its records: see backend.ts). English output only, like the IPv4 parser.
 */
export function parseNetshShowIpv6Addresses(text: string): NetshIpv6Address[] {
  const tool = 'netsh ipv6 show addresses';
  if (typeof text !== 'string') throw new WindowsParseError(`${tool}: output is not text`);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: NetshIpv6Address[] = [];
  let iface: { ifindex: number; alias: string } | null = null;
  let inTable = false;
  lines.forEach((raw, at) => {
    const line = raw.trimEnd();
    const number = at + 1;
    if (line.trim() === '') return;
    const header = IPV6_INTERFACE_HEADER.exec(line);
    if (header !== null) {
      const ifindex = Number(header[1]);
      if (ifindex < 1 || ifindex > 0xffffffff) throw new WindowsParseError(`${tool}: line ${number}: bad index ${header[1]!}`);
      iface = { ifindex, alias: header[2]! };
      inTable = false;
      return;
    }
    if (iface === null) throw new WindowsParseError(`${tool}: line ${number}: expected "Interface <index>: <name>" (English netsh output), got ${shown(line.trim())}`);
    if (IPV6_TABLE_HEADER.test(line.trim())) return;
    if (/^[\s-]+$/.test(line)) {
      inTable = true;
      return;
    }
    if (!inTable) throw new WindowsParseError(`${tool}: line ${number}: expected the "Addr Type  DAD State ..." table, got ${shown(line.trim())}`);
    const row = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(line.trim());
    if (row === null) throw new WindowsParseError(`${tool}: line ${number}: expected "Type State ValidLife PrefLife Address", got ${shown(line.trim())}`);
    const [, type, state, valid, preferred, address] = row;
    if (!NETSH_LIFE.test(valid!) || !NETSH_LIFE.test(preferred!)) throw new WindowsParseError(`${tool}: line ${number}: lifetimes ${shown(valid)} / ${shown(preferred)} are not "infinite" or like "23h59m58s"`);
    out.push({
      ifindex: iface.ifindex,
      alias: iface.alias,
      ip: windowsIpv6(address, `${tool}: line ${number}`),
      type: type!,
      state: enumName(state, ADDRESS_STATES, `${tool}: line ${number} DAD State`) as AddressState,
    });
  });
  return out;
}
