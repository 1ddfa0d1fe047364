// Builders for the Windows commands of the address backend. Pure: each returns what to run, as a program
// path and an argument ARRAY (never a command string), plus the environment entries it needs.
//
// How data reaches PowerShell. `powershell.exe -Command <text>` re-parses its text as PowerShell, so
// any value spliced into it is code. Embedding values as single-quoted literals with `'` doubled is
// not enough either: PowerShell also ends a single-quoted string at U+2018..U+201B (‘ ’ ‚ ‛), exactly the
// kind of character an interface alias typed in Word or a localized UI may contain. So no value is ever
// put into script text. Each script is a FIXED constant (ASCII, no data), passed with -EncodedCommand
// (base64 of UTF-16LE: only [A-Za-z0-9+/=] on the command line, nothing for the quoting to get wrong);
// the request travels as JSON in the environment variable IPFO_REQUEST, which Windows hands to the child
// as a separate UTF-16 block that no parser touches. The script reads it with ConvertFrom-Json, so the
// values are data from end to end. Every script answers with ONE line: base64 of UTF-8 JSON
// ({ok, value} or {ok:false, message, errorId}). base64 makes the answer independent of the console
// code page (Windows PowerShell 5.1 writes redirected output in the OEM code page, which would turn
// "以太网" into "???"), and the script catches every error itself, so stderr and PowerShell's CLIXML
// error format never have to be parsed.
//
// Interfaces are addressed by INDEX in every command: an alias is user text, and the *-NetIPAddress
// cmdlets treat -InterfaceAlias as a wildcard pattern ("Ethernet [2]" would not even match itself).
// The alias is only ever compared in TypeScript against the listed adapters.
//
// Addresses are created in the ActiveStore only (gone after a reboot, like an address added over
// netlink on Linux) with -SkipAsSource $true (never chosen as the source of outgoing connections:
// a virtual address can leave at any time). That also lets listOwned() tell them apart from an
// administrator's static addresses, which live in the PersistentStore too (see owned.ts).
//
// netsh is the fallback for hosts without the NetTCPIP module. netsh takes argv elements such as
// `name=<alias>` as ONE element each; Node quotes it on Windows (see quote.ts). We pass the index as
// name= whenever it is known (netsh accepts "the interface name or index"), so the fallback too never
// depends on how netsh re-reads a quoted alias.
import { formatIpv4, prefixMask } from '../../arp/addresses';
import { windowsArgProblem } from './quote';
import {
  resolveLifetimes,
  shown,
  validateAlias,
  validateAddress,
  validateIfindex,
  validateIp,
  validateSystemRoot,
  WindowsInputError,
  type AddressFamily,
} from './validate';

/** What to run: execFile(file, args, { env: { ...process.env, ...env } }), no shell. */
export interface WindowsCommand {
  file: string;
  args: string[];
  /** Extra environment entries (the PowerShell request). */
  env?: Record<string, string>;
}

export const DEFAULT_SYSTEM_ROOT = 'C:\\Windows';
/** The environment variable that carries a PowerShell request. */
export const REQUEST_ENV = 'IPFO_REQUEST';
/** Windows limits one environment variable to 32,767 characters; leave room. */
export const MAX_REQUEST_CHARS = 30_000;
/** Items per PowerShell process (each item's JSON is < 150 characters). */
export const MAX_BATCH = 128;

// Absolute paths: a bare "powershell.exe" would be searched in the current directory first.
export function powershellPath(systemRoot = DEFAULT_SYSTEM_ROOT): string {
  validateSystemRoot(systemRoot);
  return `${systemRoot.replace(/\\+$/, '')}\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`;
}

export function netshPath(systemRoot = DEFAULT_SYSTEM_ROOT): string {
  validateSystemRoot(systemRoot);
  return `${systemRoot.replace(/\\+$/, '')}\\System32\\netsh.exe`;
}

// ---------- PowerShell ----------

export const PRELUDE = `$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Send-Result($result) {
  $json = ConvertTo-Json -InputObject $result -Depth 6 -Compress
  [Console]::Out.Write([Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes([string]$json)))
}
function Get-Failure($err) {
  @{ ok = $false; message = [string]$err.Exception.Message; errorId = [string]$err.FullyQualifiedErrorId }
}
try {
  $request = ConvertFrom-Json -InputObject ([string]$env:${REQUEST_ENV})
  if ($request.v -ne 1) { throw 'ipfo: unsupported request version' }
`;

export const POSTLUDE = `
} catch {
  Send-Result (Get-Failure $_)
  exit 1
}
`;

const ADDRESS_FIELDS = 'IPAddress, InterfaceIndex, InterfaceAlias, AddressFamily, Type, PrefixLength, PrefixOrigin, SuffixOrigin, AddressState, SkipAsSource, ValidLifetime, PreferredLifetime, Store, PolicyStore';

const ADAPTER_FIELDS = 'Name, InterfaceDescription, ifIndex, InterfaceGuid, MacAddress, Status';

/**
 * What the register script throws for an item whose deadline (`notAfterNs`) passed before its cmdlet ran.
 * The deadline is process.hrtime.bigint() time: libuv reads QueryPerformanceCounter on Windows
 * (counter / (frequency / 1e9)), the same counter [Diagnostics.Stopwatch]::GetTimestamp() returns, so
 * the script compares it on the clock the agent decided on, right before New-/Set-NetIPAddress.
 */
export const DEADLINE_MESSAGE = 'ipfo: deadline passed';

/**
 * The scripts, by operation. Constants: no request data is ever part of them (tested).
 *
 * Both families: the listing takes IPv4 and IPv6 (Get-NetIPAddress without -AddressFamily; link-local
 * IPv6 addresses come as "fe80::...%<zone>", parse.ts strips the zone), and each register/deregister
 * item names its own family, so one batch may mix them. An IPv6 address New-NetIPAddress adds is
 * TENTATIVE while Windows runs duplicate address detection on it (DadTransmits, 1 by default: about a
 * second), although the agent has done DAD itself (its ND claim) before registering. We leave the
 * interface's DadTransmits alone (it is the administrator's, and governs every address there): the host
 * facade counts a tentative address as not settled yet and a Duplicate one as a late failure
 * (host/windows-host.ts).
 */
export const SCRIPTS = {
  listAddresses: `${PRELUDE}  $active = @(Get-NetIPAddress -PolicyStore ActiveStore | Select-Object ${ADDRESS_FIELDS})
  $persistent = @(Get-NetIPAddress -PolicyStore PersistentStore -ErrorAction SilentlyContinue | Select-Object ${ADDRESS_FIELDS})
  $adapters = @(Get-NetAdapter | Select-Object ${ADAPTER_FIELDS})
  Send-Result @{ ok = $true; value = @{ active = $active; persistent = $persistent; adapters = $adapters } }${POSTLUDE}`,

  listAdapters: `${PRELUDE}  $adapters = @(Get-NetAdapter | Select-Object ${ADAPTER_FIELDS})
  Send-Result @{ ok = $true; value = $adapters }${POSTLUDE}`,

  register: `${PRELUDE}  $results = @(foreach ($item in $request.items) {
    try {
      if ($item.family -ne 'IPv4' -and $item.family -ne 'IPv6') { throw 'ipfo: unknown address family' }
      if ($null -ne $item.notAfterNs) {
        $nowNs = [decimal][Diagnostics.Stopwatch]::GetTimestamp() * [decimal]1000000000 / [decimal][Diagnostics.Stopwatch]::Frequency
        if ($nowNs -gt [decimal][string]$item.notAfterNs) { throw '${DEADLINE_MESSAGE}' }
      }
      $common = @{ AddressFamily = [string]$item.family; InterfaceIndex = [uint32]$item.ifindex; IPAddress = [string]$item.ip; PrefixLength = [byte]$item.prefix; PolicyStore = 'ActiveStore'; SkipAsSource = $true }
      if ($null -ne $item.validSec) { $common.ValidLifetime = [TimeSpan]::FromSeconds([double]$item.validSec) }
      if ($null -ne $item.preferredSec) { $common.PreferredLifetime = [TimeSpan]::FromSeconds([double]$item.preferredSec) }
      if ($item.action -eq 'add') {
        $null = New-NetIPAddress -Type Unicast @common
      } elseif ($item.action -eq 'renew') {
        if ($null -eq $item.validSec) { $common.ValidLifetime = [TimeSpan]::MaxValue }
        if ($null -eq $item.preferredSec) { $common.PreferredLifetime = [TimeSpan]::MaxValue }
        Set-NetIPAddress @common
      } else {
        throw 'ipfo: unknown action'
      }
      @{ ok = $true }
    } catch {
      Get-Failure $_
    }
  })
  Send-Result @{ ok = $true; value = $results }${POSTLUDE}`,

  deregister: `${PRELUDE}  $results = @(foreach ($item in $request.items) {
    try {
      if ($item.family -ne 'IPv4' -and $item.family -ne 'IPv6') { throw 'ipfo: unknown address family' }
      Remove-NetIPAddress -AddressFamily ([string]$item.family) -InterfaceIndex ([uint32]$item.ifindex) -IPAddress ([string]$item.ip) -PrefixLength ([byte]$item.prefix) -PolicyStore ActiveStore -Confirm:$false
      @{ ok = $true }
    } catch {
      Get-Failure $_
    }
  })
  Send-Result @{ ok = $true; value = $results }${POSTLUDE}`,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

/** -EncodedCommand's argument: base64 of the UTF-16LE script. */
export function encodeScript(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/** powershell.exe running one of SCRIPTS with `request` (any JSON data) in IPFO_REQUEST. */
export function powershellCommand(name: ScriptName, request: Record<string, unknown>, systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  const json = JSON.stringify({ v: 1, ...request });
  if (json.length > MAX_REQUEST_CHARS) {
    throw new WindowsInputError(`request is ${json.length} characters, more than one environment variable may hold (${MAX_REQUEST_CHARS}); send fewer items`);
  }
  const problem = windowsArgProblem(json);
  if (problem !== null) throw new WindowsInputError(`request ${problem}`);
  return {
    file: powershellPath(systemRoot),
    args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-InputFormat', 'None', '-OutputFormat', 'Text', '-EncodedCommand', encodeScript(SCRIPTS[name])],
    env: { [REQUEST_ENV]: json },
  };
}

/** One address to add (or renew), by interface index. */
export interface IndexedAddress {
  ifindex: number;
  ip: string;
  prefix: number;
  validLftSec?: number;
  preferredLftSec?: number;
}

export interface RegisterItem extends IndexedAddress {
  /** 'add' = New-NetIPAddress; 'renew' = Set-NetIPAddress on an address that is ours already. */
  action: 'add' | 'renew';
  /** process.hrtime.bigint() ns: the script refuses the item (DEADLINE_MESSAGE) when its cmdlet would run later. */
  notAfterNs?: bigint;
}

function checkBatch(items: readonly unknown[]): void {
  if (!Array.isArray(items) || items.length === 0) throw new WindowsInputError('no addresses given');
  if (items.length > MAX_BATCH) throw new WindowsInputError(`${items.length} addresses in one command; at most ${MAX_BATCH}`);
}

function checkIndexed(item: IndexedAddress, at: number): AddressFamily {
  try {
    validateIfindex(item.ifindex);
    return validateAddress(item.ip, item.prefix);
  } catch (error) {
    throw new WindowsInputError(`address ${at + 1}: ${(error as Error).message}`);
  }
}

/** New-NetIPAddress (-SkipAsSource $true, ActiveStore, lifetimes as TimeSpan) or Set-NetIPAddress per item. */
export function registerCommand(items: readonly RegisterItem[], systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  checkBatch(items);
  const request = items.map((item, at) => {
    const family = checkIndexed(item, at);
    if (item.action !== 'add' && item.action !== 'renew') throw new WindowsInputError(`address ${at + 1}: action must be "add" or "renew", got ${shown(item.action)}`);
    let lifetimes: ReturnType<typeof resolveLifetimes>;
    try {
      lifetimes = resolveLifetimes(item.validLftSec, item.preferredLftSec);
    } catch (error) {
      throw new WindowsInputError(`address ${at + 1}: ${(error as Error).message}`);
    }
    if (item.notAfterNs !== undefined && (typeof item.notAfterNs !== 'bigint' || item.notAfterNs < 0n)) throw new WindowsInputError(`address ${at + 1}: notAfterNs must be a non-negative bigint`);
    // As text: nanoseconds since boot pass 2^53 after ~104 days, and the script reads it as [decimal].
    return { action: item.action, family, ifindex: item.ifindex, ip: item.ip, prefix: item.prefix, ...lifetimes, ...(item.notAfterNs === undefined ? {} : { notAfterNs: item.notAfterNs.toString() }) };
  });
  return powershellCommand('register', { items: request }, systemRoot);
}

/** Remove-NetIPAddress -Confirm:$false per item (ActiveStore). */
export function deregisterCommand(items: readonly IndexedAddress[], systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  checkBatch(items);
  const request = items.map((item, at) => {
    const family = checkIndexed(item, at);
    return { family, ifindex: item.ifindex, ip: item.ip, prefix: item.prefix };
  });
  return powershellCommand('deregister', { items: request }, systemRoot);
}

/** Get-NetIPAddress (both families) of the active and the persistent store, and Get-NetAdapter, as JSON. */
export function listAddressesCommand(systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return powershellCommand('listAddresses', {}, systemRoot);
}

/** Get-NetAdapter (name, index, GUID, MAC, status) as JSON. */
export function listAdaptersCommand(systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return powershellCommand('listAdapters', {}, systemRoot);
}

// ---------- netsh (fallback) ----------

/** The interface for netsh's name=: its index (preferred) or its alias. */
export type NetshInterface = { ifindex: number } | { alias: string };

/** name= in netsh's ipv4 context, interface= in its ipv6 context. */
function netshName(iface: NetshInterface, key: 'name' | 'interface' = 'name'): string {
  if ('ifindex' in iface) {
    validateIfindex(iface.ifindex);
    return `${key}=${iface.ifindex}`;
  }
  validateAlias(iface.alias);
  // A name made only of digits would be read as an index: refuse rather than act on another interface.
  if (/^\d+$/.test(iface.alias)) throw new WindowsInputError(`interface alias ${shown(iface.alias)} is all digits, which netsh would read as an index; use the index`);
  return `${key}=${iface.alias}`; // ONE argv element; Node quotes it (quote.ts)
}

export interface NetshAddress {
  iface: NetshInterface;
  ip: string;
  prefix: number;
  validLftSec?: number;
  preferredLftSec?: number;
}

/**
 * netsh interface ipv4 add address name=… address=… mask=… [validlifetime= preferredlifetime=] store=active skipassource=true;
 * IPv6: netsh interface ipv6 add address interface=… address=<ip>/<prefix> type=unicast [validlifetime= preferredlifetime=] store=active skipassource=true
 */
export function netshAddAddress(address: NetshAddress, systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  const family = validateAddress(address.ip, address.prefix);
  const name = netshName(address.iface, family === 'IPv6' ? 'interface' : 'name');
  const { validSec, preferredSec } = resolveLifetimes(address.validLftSec, address.preferredLftSec);
  const args =
    family === 'IPv6'
      ? ['interface', 'ipv6', 'add', 'address', name, `address=${address.ip}/${address.prefix}`, 'type=unicast']
      : ['interface', 'ipv4', 'add', 'address', name, `address=${address.ip}`, `mask=${formatIpv4(prefixMask(address.prefix))}`, 'type=unicast'];
  if (validSec !== null) args.push(`validlifetime=${validSec}`);
  if (preferredSec !== null) args.push(`preferredlifetime=${preferredSec}`);
  args.push('store=active', 'skipassource=true');
  return { file: netshPath(systemRoot), args };
}

/** netsh interface ipv4 delete address name=… address=… store=active (ipv6: interface=…) */
export function netshDeleteAddress(address: { iface: NetshInterface; ip: string }, systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  const family = validateIp(address.ip);
  const context = family === 'IPv6' ? 'ipv6' : 'ipv4';
  const name = netshName(address.iface, family === 'IPv6' ? 'interface' : 'name');
  return { file: netshPath(systemRoot), args: ['interface', context, 'delete', 'address', name, `address=${address.ip}`, 'store=active'] };
}

/** netsh interface ipv4 show addresses (English output: see parse.ts). */
export function netshShowAddresses(systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return { file: netshPath(systemRoot), args: ['interface', 'ipv4', 'show', 'addresses'] };
}

/** netsh interface ipv6 show addresses: per "Interface <index>: <name>" a table of type, DAD state, lifetimes, address (no prefix). */
export function netshShowIpv6Addresses(systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return { file: netshPath(systemRoot), args: ['interface', 'ipv6', 'show', 'addresses'] };
}

/** netsh interface ipv4 show interfaces: the index ↔ name table. */
export function netshShowInterfaces(systemRoot = DEFAULT_SYSTEM_ROOT): WindowsCommand {
  return { file: netshPath(systemRoot), args: ['interface', 'ipv4', 'show', 'interfaces'] };
}
