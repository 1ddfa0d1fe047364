// The Windows address backend: the host's IPv4 and IPv6 addresses over PowerShell's NetTCPIP cmdlets, netsh as
// fallback, asynchronous (the agent reaches it through the desired-state facade in host/windows-host.ts).
// Effects only: every command comes from commands.ts, every output goes through parse.ts, every
// decision is made in owned.ts. Programs run with execFile (no shell), by absolute path.
//
// Cost: one PowerShell process per operation (~0.3-0.5 s to start), so a batch is one process, and
// every change lists first (one more process) to decide add / renew / refuse per address. apply() does
// a whole batch of removals and additions on one listing and hands that listing, brought up to date with
// the outcomes, back to the caller: the facade's cache costs no process of its own.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEADLINE_PASSED, NoSuchInterfaceError, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from '../../host/address-types';
import {
  DEFAULT_SYSTEM_ROOT,
  deregisterCommand,
  listAdaptersCommand,
  listAddressesCommand,
  MAX_BATCH,
  netshAddAddress,
  netshDeleteAddress,
  netshShowAddresses,
  netshShowInterfaces,
  netshShowIpv6Addresses,
  registerCommand,
  type RegisterItem,
  type WindowsCommand,
} from './commands';
import { resolveLifetimes } from './validate';
import {
  IFA_F_TENTATIVE,
  IPFO_ADDR_PROTO,
  formatOwnedRecords,
  knownInterfaces,
  markOwnership,
  ownedKey,
  parseOwnedRecords,
  planDeregister,
  planRegister,
  resolveAlias,
  windowsErrorCode,
  windowsInterfaceForSubnet,
  type KnownInterface,
  type OwnedRecord,
  type OwnershipView,
} from './owned';
import {
  decodePowerShellAnswer,
  jsonItems,
  netAdaptersFromJson,
  netIPAddressesFromJson,
  parseNetshShowAddresses,
  parseNetshShowInterfaces,
  parseNetshShowIpv6Addresses,
  WindowsParseError,
  type WindowsAdapter,
  type WindowsAddress,
} from './parse';
import { windowsCommandLine } from './quote';

export interface CommandOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Runs one command; rejects only when it could not be started. */
export type CommandRunner = (command: WindowsCommand) => Promise<CommandOutput>;

/** Where the owned-address records live. */
export interface RecordStore {
  read(): Promise<string>;
  write(text: string): Promise<void>;
}

export interface WindowsBackendOptions {
  /** %SystemRoot%, for the absolute paths of powershell.exe and netsh.exe. */
  systemRoot?: string;
  /** 'auto': PowerShell, switching to netsh for good when PowerShell or NetTCPIP is missing. */
  tool?: 'auto' | 'powershell' | 'netsh';
  run?: CommandRunner;
  records?: RecordStore;
}

const COMMAND_TIMEOUT_MS = 60_000;

/** execFile without a shell. Output is read as latin1: PowerShell answers in base64, netsh in the OEM code page. */
export const execFileRunner: CommandRunner = (command) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      command.file,
      command.args,
      { env: { ...process.env, ...command.env }, windowsHide: true, encoding: 'latin1', maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') {
          reject(Object.assign(new Error(`cannot run ${windowsCommandLine(command.file, command.args).slice(0, 200)}: ${error.message}`), { code: error.code }));
          return;
        }
        resolve({ stdout, stderr, exitCode: error === null ? 0 : Number(error.code) });
      },
    );
    child.stdin?.end();
  });

/** The records in a file: written to a temporary file, then renamed over the old one. */
export function fileRecordStore(file: string): RecordStore {
  return {
    async read() {
      try {
        return await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
        throw error;
      }
    },
    async write(text) {
      await mkdir(path.dirname(file), { recursive: true });
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, text, { encoding: 'utf8', flush: true });
      await rename(temp, file);
    },
  };
}

export function defaultRecordFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'ipfo', 'owned-addresses.json');
}

/** The host's addresses as one listing saw them: every IPv4 and IPv6 address (ours marked; flags: DAD state, owned.ts stateFlags), the adapters, alias ↔ index. */
export interface WindowsSnapshot {
  addresses: InterfaceAddress[];
  /** Get-NetAdapter (empty through netsh, which lists no adapters). */
  adapters: WindowsAdapter[];
  known: KnownInterface[];
}

/** An address to add or renew, and the latest moment (process.hrtime.bigint() ns) it may reach the host. */
export interface DeadlinedAddress {
  address: VirtualAddress;
  notAfterNs?: bigint;
}

/** What apply() did: one result per item, in order, and the listing it worked on brought up to date. */
export interface AppliedChanges {
  deregistered: RegistrarResult[];
  registered: RegistrarResult[];
  after: WindowsSnapshot;
}

/** The Windows host's IPv4 and IPv6 addresses, asynchronous: each call runs one or two PowerShell (or netsh) processes. */
export interface WindowsAddressBackend {
  /** Adds or renews addresses, marked as ours; one result per item, in order. */
  register(list: readonly VirtualAddress[], notAfterNs?: bigint): Promise<RegistrarResult[]>;
  /** Removes addresses we added; absent counts as removed; one result per item. */
  deregister(list: readonly VirtualAddress[]): Promise<RegistrarResult[]>;
  /** Only ours, found again after a restart. */
  listOwned(ifname?: string): Promise<InterfaceAddress[]>;
  listAll(ifname?: string): Promise<InterfaceAddress[]>;
  /** The interface with an address of its own (not ours) in the subnet of ip/prefix; null when none. */
  interfaceForSubnet(ip: string, prefix: number): Promise<string | null>;
  /** Canonical MAC ("02:00:0a:d5:00:01") of an interface. */
  macOf(ifname: string): Promise<string>;
  /** One listing: addresses, adapters, interfaces. */
  snapshot(): Promise<WindowsSnapshot>;
  /** Removals first, then additions and renewals, on one listing (see AppliedChanges). */
  apply(changes: { deregister: readonly VirtualAddress[]; register: readonly DeadlinedAddress[] }): Promise<AppliedChanges>;
}

interface View {
  active: WindowsAddress[];
  addresses: InterfaceAddress[];
  adapters: WindowsAdapter[];
  known: KnownInterface[];
}

interface Listed {
  active: WindowsAddress[];
  marked: OwnershipView;
  adapters: WindowsAdapter[];
  known: KnownInterface[];
}

class ToolMissing extends Error {}

class PowerShellAddressBackend implements WindowsAddressBackend {
  private readonly systemRoot: string;
  private readonly run: CommandRunner;
  private readonly store: RecordStore;
  private tool: 'powershell' | 'netsh';
  private readonly fallback: boolean;
  /** One operation at a time: the records are read, changed and written back by each. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: WindowsBackendOptions) {
    this.systemRoot = options.systemRoot ?? DEFAULT_SYSTEM_ROOT;
    this.run = options.run ?? execFileRunner;
    this.store = options.records ?? fileRecordStore(defaultRecordFile());
    this.tool = options.tool === 'netsh' ? 'netsh' : 'powershell';
    this.fallback = (options.tool ?? 'auto') === 'auto';
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.queue.then(task, task);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs a PowerShell command and returns the answer's value; ToolMissing when PowerShell or NetTCPIP is absent. */
  private async powershell(command: WindowsCommand): Promise<unknown> {
    let output: CommandOutput;
    try {
      output = await this.run(command);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') throw new ToolMissing('powershell.exe not found');
      throw error;
    }
    const answer = decodePowerShellAnswer(output.stdout);
    if (answer.ok) return answer.value;
    if (/CommandNotFoundException/.test(answer.errorId)) throw new ToolMissing(answer.message);
    throw Object.assign(new Error(`PowerShell: ${answer.message}`), { code: windowsErrorCode(answer.message, answer.errorId) });
  }

  private async withTool<T>(viaPowerShell: () => Promise<T>, viaNetsh: () => Promise<T>): Promise<T> {
    if (this.tool === 'netsh') return viaNetsh();
    try {
      return await viaPowerShell();
    } catch (error) {
      if (!(error instanceof ToolMissing) || !this.fallback) throw error;
      this.tool = 'netsh';
      return viaNetsh();
    }
  }

  private async readRecords(): Promise<OwnedRecord[]> {
    return parseOwnedRecords(await this.store.read());
  }

  private async writeRecordsIfChanged(before: readonly OwnedRecord[], after: readonly OwnedRecord[]): Promise<void> {
    const text = formatOwnedRecords(after);
    if (text !== formatOwnedRecords(before)) await this.store.write(text);
  }

  /** The current addresses with ownership, records pruned of addresses that are gone. */
  private async view(): Promise<View> {
    const records = await this.readRecords();
    const listed = await this.withTool<Listed>(
      async () => {
        const value = await this.powershell(listAddressesCommand(this.systemRoot));
        const parts = (value ?? {}) as { active?: unknown; persistent?: unknown; adapters?: unknown };
        if (typeof parts !== 'object' || Array.isArray(parts)) throw new WindowsParseError('PowerShell: address list is not {active, persistent, adapters}');
        const active = netIPAddressesFromJson(parts.active ?? null, 'Get-NetIPAddress (active)');
        const persistent = netIPAddressesFromJson(parts.persistent ?? null, 'Get-NetIPAddress (persistent)');
        const adapters = netAdaptersFromJson(parts.adapters ?? null);
        const marked = markOwnership(active, persistent, records);
        return { active, marked, adapters, known: knownInterfaces(adapters, active) };
      },
      async () => this.netshView(records),
    );
    await this.writeRecordsIfChanged(records, listed.marked.records);
    return { active: listed.active, addresses: listed.marked.addresses, adapters: listed.adapters, known: listed.known };
  }

  /**
   * netsh shows neither SkipAsSource nor the store nor lifetimes: ownership there rests on the
   * records alone. Names come in the OEM code page; both tables are read the same way, so they join.
   * `ipv6 show addresses` prints no prefix length: a recorded address (ours) takes the prefix of its
   * record, any other one is listed as a /128, so through netsh an IPv6 resource is not placed by the
   * prefixes of the host's own addresses (name its interface).
   */
  private async netshView(records: readonly OwnedRecord[]): Promise<Listed> {
    const interfaces = parseNetshShowInterfaces((await this.run(netshShowInterfaces(this.systemRoot))).stdout);
    const shown = parseNetshShowAddresses((await this.run(netshShowAddresses(this.systemRoot))).stdout);
    const shown6 = parseNetshShowIpv6Addresses((await this.run(netshShowIpv6Addresses(this.systemRoot))).stdout);
    const known = interfaces.map((row) => ({ alias: row.alias, ifindex: row.ifindex }));
    const active: WindowsAddress[] = [];
    for (const a of shown) {
      const ifindex = resolveAlias(a.alias, known);
      if (ifindex === null) continue;
      active.push({ family: 'IPv4', ifindex, alias: a.alias, ip: a.ip, prefix: a.prefix, prefixOrigin: 'Manual', suffixOrigin: 'Manual', state: 'Preferred', type: 'Unicast', skipAsSource: true, validLftSec: null, preferredLftSec: null, store: 'ActiveStore' });
    }
    for (const a of shown6) {
      if (!known.some((k) => k.ifindex === a.ifindex)) known.push({ alias: a.alias, ifindex: a.ifindex });
      const record = records.find((r) => r.ifindex === a.ifindex && r.ip === a.ip);
      const manual = a.type === 'Manual';
      active.push({ family: 'IPv6', ifindex: a.ifindex, alias: a.alias, ip: a.ip, prefix: record?.prefix ?? 128, prefixOrigin: manual ? 'Manual' : 'Other', suffixOrigin: manual ? 'Manual' : 'Other', state: a.state, type: 'Unicast', skipAsSource: true, validLftSec: null, preferredLftSec: null, store: 'ActiveStore' });
    }
    const marked = markOwnership(active, [], records);
    return { active, marked, adapters: [], known };
  }

  listAll(ifname?: string): Promise<InterfaceAddress[]> {
    return this.serial(async () => {
      const view = await this.view();
      if (ifname === undefined) return view.addresses;
      const ifindex = resolveAlias(ifname, view.known);
      if (ifindex === null) throw new NoSuchInterfaceError(ifname);
      return view.addresses.filter((a) => a.ifindex === ifindex);
    });
  }

  async listOwned(ifname?: string): Promise<InterfaceAddress[]> {
    return (await this.listAll(ifname)).filter((a) => a.owned);
  }

  interfaceForSubnet(ip: string, prefix: number): Promise<string | null> {
    return this.serial(async () => {
      const view = await this.view();
      const owned = new Set(view.addresses.filter((a) => a.owned).map((a) => ownedKey(a.ifindex, a.ip, a.prefix)));
      return windowsInterfaceForSubnet(view.active, owned, ip, prefix);
    });
  }

  macOf(ifname: string): Promise<string> {
    return this.serial(async () => {
      const adapters = netAdaptersFromJson(await this.powershell(listAdaptersCommand(this.systemRoot)));
      const ifindex = resolveAlias(ifname, adapters.map((a) => ({ alias: a.name, ifindex: a.ifindex })));
      const adapter = adapters.find((a) => a.ifindex === ifindex);
      if (adapter === undefined) throw new NoSuchInterfaceError(ifname);
      if (adapter.mac === null) throw new Error(`interface ${JSON.stringify(ifname)} has no MAC address`);
      return adapter.mac;
    });
  }

  snapshot(): Promise<WindowsSnapshot> {
    return this.serial(async () => {
      const view = await this.view();
      return { addresses: view.addresses, adapters: view.adapters, known: view.known };
    });
  }

  register(list: readonly VirtualAddress[], notAfterNs?: bigint): Promise<RegistrarResult[]> {
    return this.serial(async () => this.registerOn(await this.view(), list.map((address) => (notAfterNs === undefined ? { address } : { address, notAfterNs }))));
  }

  deregister(list: readonly VirtualAddress[]): Promise<RegistrarResult[]> {
    return this.serial(async () => this.deregisterOn(await this.view(), list));
  }

  apply(changes: { deregister: readonly VirtualAddress[]; register: readonly DeadlinedAddress[] }): Promise<AppliedChanges> {
    return this.serial(async () => {
      const view = await this.view();
      const deregistered = changes.deregister.length > 0 ? await this.deregisterOn(view, changes.deregister) : [];
      const registered = changes.register.length > 0 ? await this.registerOn(view, changes.register) : [];
      return { deregistered, registered, after: { addresses: view.addresses, adapters: view.adapters, known: view.known } };
    });
  }

  /** register() on a listing; the listing is brought up to date with what was added or renewed. */
  private async registerOn(view: View, list: readonly DeadlinedAddress[]): Promise<RegistrarResult[]> {
    const plan = planRegister(list.map((d) => d.address), view.known, view.addresses);
    for (const { index, item } of plan.items) {
      const notAfterNs = list[index]!.notAfterNs;
      if (notAfterNs !== undefined) item.notAfterNs = notAfterNs;
    }
    const before = await this.readRecords();
    const records = new Map(before.map((r) => [ownedKey(r.ifindex, r.ip, r.prefix), r]));
    // Recorded BEFORE the add: a crash after it must not leave an address we would refuse to remove.
    for (const { item } of plan.items) records.set(ownedKey(item.ifindex, item.ip, item.prefix), { ifindex: item.ifindex, ip: item.ip, prefix: item.prefix });
    const intended = [...records.values()];
    await this.writeRecordsIfChanged(before, intended);
    const results = plan.results;
    const netsh = this.tool === 'netsh';
    for (let start = 0; start < plan.items.length; start += MAX_BATCH) {
      // The deadline is checked again right before the process starts (the listing took a while), and by
      // the script right before each cmdlet (netsh cannot: there this check is the last one).
      const now = process.hrtime.bigint();
      const chunk = plan.items.slice(start, start + MAX_BATCH);
      const due = chunk.filter(({ item }) => item.notAfterNs === undefined || now <= item.notAfterNs);
      const ran = due.length === 0 ? [] : netsh ? await this.netshRegister(due.map((c) => c.item)) : await this.scriptResults(registerCommand(due.map((c) => c.item), this.systemRoot), due.length);
      const outcomeOf = new Map(due.map((c, i) => [c, ran[i]!]));
      const late: Outcome = { ok: false, code: DEADLINE_PASSED, message: 'not applied: its deadline passed before PowerShell could run' };
      chunk.forEach((entry) => {
        const { index, item } = entry;
        const address = list[index]!.address;
        const outcome = outcomeOf.get(entry) ?? late;
        results[index] = outcome.ok ? { address, ok: true } : { address, ok: false, code: outcome.code, message: outcome.message };
        // A failed add is not ours (it may even be someone else's that appeared meanwhile).
        if (!outcome.ok && item.action === 'add') records.delete(ownedKey(item.ifindex, item.ip, item.prefix));
        if (outcome.ok) view.addresses = withRegistered(view.addresses, view.known, item);
      });
    }
    await this.writeRecordsIfChanged(intended, [...records.values()]);
    return complete(list.map((d) => d.address), results);
  }

  /** deregister() on a listing; the listing is brought up to date with what was removed. */
  private async deregisterOn(view: View, list: readonly VirtualAddress[]): Promise<RegistrarResult[]> {
    const plan = planDeregister(list, view.known, view.addresses);
    const before = await this.readRecords();
    const records = new Map(before.map((r) => [ownedKey(r.ifindex, r.ip, r.prefix), r]));
    const results = plan.results;
    const netsh = this.tool === 'netsh';
    for (let start = 0; start < plan.items.length; start += MAX_BATCH) {
      const chunk = plan.items.slice(start, start + MAX_BATCH);
      const outcomes = netsh ? await this.netshDeregister(chunk.map((c) => c.item)) : await this.scriptResults(deregisterCommand(chunk.map((c) => c.item), this.systemRoot), chunk.length);
      chunk.forEach(({ index, item }, i) => {
        const address = list[index]!;
        const outcome = outcomes[i]!;
        const gone = outcome.ok || outcome.code === 'ENOENT';
        results[index] = gone ? { address, ok: true } : { address, ok: false, code: outcome.code, message: outcome.message };
        if (gone) {
          records.delete(ownedKey(item.ifindex, item.ip, item.prefix));
          view.addresses = view.addresses.filter((a) => !(a.owned && a.ifindex === item.ifindex && a.ip === item.ip && a.prefix === item.prefix));
        }
      });
    }
    await this.writeRecordsIfChanged(before, [...records.values()]);
    return complete(list, results);
  }

  /** Per-item outcomes of a register/deregister script; a failed script fails every item. */
  private async scriptResults(command: WindowsCommand, count: number): Promise<Outcome[]> {
    let value: unknown;
    try {
      value = await this.powershell(command);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const failed: Outcome = { ok: false, code: typeof code === 'string' ? code : 'EIO', message: (error as Error).message };
      return Array.from({ length: count }, () => failed);
    }
    const items = jsonItems(value, 'PowerShell results');
    if (items.length !== count) throw new WindowsParseError(`PowerShell: ${items.length} results for ${count} addresses`);
    return items.map((item): Outcome => {
      if (item.ok === true) return { ok: true };
      const message = typeof item.message === 'string' ? item.message : 'unknown error';
      const errorId = typeof item.errorId === 'string' ? item.errorId : '';
      return { ok: false, code: windowsErrorCode(message, errorId), message };
    });
  }

  private async netshRegister(items: readonly RegisterItem[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const item of items) {
      if (item.action === 'renew') {
        // netsh has no "renew the lifetime of this one address" (set address rewrites the whole
        // interface configuration): an infinite address needs nothing, a finite one needs PowerShell.
        out.push(item.validLftSec === undefined && item.preferredLftSec === undefined ? { ok: true } : { ok: false, code: 'ENOTSUP', message: 'renewing an address lifetime needs PowerShell (Set-NetIPAddress); netsh cannot' });
        continue;
      }
      out.push(await this.netshOutcome(netshAddAddress({ iface: { ifindex: item.ifindex }, ip: item.ip, prefix: item.prefix, ...lifetimesOf(item) }, this.systemRoot)));
    }
    return out;
  }

  private async netshDeregister(items: readonly { ifindex: number; ip: string }[]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const item of items) out.push(await this.netshOutcome(netshDeleteAddress({ iface: { ifindex: item.ifindex }, ip: item.ip }, this.systemRoot)));
    return out;
  }

  private async netshOutcome(command: WindowsCommand): Promise<Outcome> {
    const output = await this.run(command);
    if (output.exitCode === 0) return { ok: true };
    const message = `${output.stdout} ${output.stderr}`.replace(/\s+/g, ' ').trim() || `netsh exited with ${output.exitCode}`;
    return { ok: false, code: /element not found|cannot find/i.test(message) ? 'ENOENT' : windowsErrorCode(message, ''), message: `netsh: ${message}` };
  }
}

type Outcome = { ok: true } | { ok: false; code: string; message: string };

function lifetimesOf(item: { validLftSec?: number; preferredLftSec?: number }): { validLftSec?: number; preferredLftSec?: number } {
  const out: { validLftSec?: number; preferredLftSec?: number } = {};
  if (item.validLftSec !== undefined) out.validLftSec = item.validLftSec;
  if (item.preferredLftSec !== undefined) out.preferredLftSec = item.preferredLftSec;
  return out;
}

/** The listing after an add or renewal Windows confirmed: the address, ours, with the lifetimes asked for. */
function withRegistered(addresses: readonly InterfaceAddress[], known: readonly KnownInterface[], item: RegisterItem): InterfaceAddress[] {
  const { validSec, preferredSec } = resolveLifetimes(item.validLftSec, item.preferredLftSec);
  const alias = known.find((k) => k.ifindex === item.ifindex)?.alias ?? null;
  const previous = addresses.find((a) => a.ifindex === item.ifindex && a.ip === item.ip && a.prefix === item.prefix);
  // A new IPv6 address is tentative while Windows runs DAD on it (commands.ts): the next listing says when it is not.
  const flags = item.action === 'add' && item.ip.includes(':') ? IFA_F_TENTATIVE : (previous?.flags ?? 0);
  const entry: InterfaceAddress = { ifname: alias, ifindex: item.ifindex, ip: item.ip, prefix: item.prefix, proto: IPFO_ADDR_PROTO, owned: true, label: alias ?? '', validLftSec: validSec, preferredLftSec: preferredSec, flags };
  const others = addresses.filter((a) => !(a.ifindex === item.ifindex && a.ip === item.ip && a.prefix === item.prefix));
  return [...others, entry];
}

function complete(list: readonly VirtualAddress[], results: readonly (RegistrarResult | undefined)[]): RegistrarResult[] {
  return list.map((address, i) => results[i] ?? { address, ok: false, code: 'EIO', message: 'no result' });
}

/** A Windows backend; options are for tests and for hosts with an unusual %SystemRoot%. */
export function createWindowsAddressBackend(options: WindowsBackendOptions = {}): WindowsAddressBackend {
  return new PowerShellAddressBackend({ systemRoot: process.env.SystemRoot ?? DEFAULT_SYSTEM_ROOT, ...options });
}

let shared: WindowsAddressBackend | undefined;

/** The process-wide Windows backend (one queue for the records file). */
export function windowsAddressBackend(): WindowsAddressBackend {
  shared ??= createWindowsAddressBackend();
  return shared;
}
