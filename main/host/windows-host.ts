// The Windows host (host.ts): addresses through PowerShell's NetTCPIP cmdlets (net/windows/backend.ts),
// ARP through `cap` over Npcap, interfaces from os.networkInterfaces() and Get-NetAdapter. Loaded only
// on win32 (cli/commands/agent-host.ts) and by unit tests; Linux never imports it.
//
// Addresses: the agent's calls are synchronous (one netlink round trip each on Linux) and a PowerShell
// call takes 0.3-0.5 s, so `addresses` is a desired-state facade over the backend:
// - register/deregister check what can be checked at once (input, interface, an address that is not
//   ours, a deadline already passed: the same rules as the backend, owned.ts planRegister/planDeregister,
//   on the cached listing), record the change and answer per item at once; the change goes to the
//   backend in the next batch. One batch at a time: changes made while one runs wait for the next, and a
//   newer change of an address replaces a waiting one (a renewal replaces a renewal, a removal an add).
// - a registration's deadline (notAfterNs) travels with it: checked when accepted, again right before
//   its PowerShell process starts, and by the script right before New-/Set-NetIPAddress (the same QPC
//   clock). What Windows does after that check (CIM, the IP helper) is not bounded: see ARCHITECTURE.
// - listAll/listOwned answer from the last listing (each batch lists first and brings it up to date;
//   otherwise one is taken every refreshMs) with the accepted changes applied.
// - settled() says when every change accepted so far has reached Windows; onLateFailure hears of the
//   ones Windows refused, and of wanted addresses a later listing no longer shows (ADDRESS_GONE).
// - IPv6 (issue 18): Windows runs its own duplicate address detection on an address New-NetIPAddress
//   adds (about a second; the agent's ND claim has probed already, and the interface's DadTransmits is
//   left alone). The host does not carry a TENTATIVE address yet: while a wanted address is listed
//   tentative, settled() waits (a listing every TENTATIVE_POLL_MS, at most TENTATIVE_MAX_MS), and one
//   listed DUPLICATE is a late failure (DUPLICATE_ADDRESS) and is removed again (an IPv4 address a listing
//   shows so is treated alike; a batch's own listing is taken before its add, so only a later one can). listAll() shows IPv6
//   addresses only when asked for 'both', as on Linux; listOwned() shows both families.
import { networkInterfaces as osNetworkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { win32 } from 'node:path';
import type { Mac } from '../arp/frame';
import { NdSocket } from '../net/nd-socket';
import { ArpSocket, PacketIoError } from '../net/pcap';
import type { InterfaceInfo, InterfaceState } from '../net/interfaces';
import { createWindowsAddressBackend, type AppliedChanges, type DeadlinedAddress, type WindowsAddressBackend, type WindowsSnapshot } from '../net/windows/backend';
import { npcapDeviceName } from '../net/windows/npcap';
import { IFA_F_DADFAILED, IFA_F_TENTATIVE, IPFO_ADDR_PROTO, ownedKey, planDeregister, planRegister, resolveAlias } from '../net/windows/owned';
import type { WindowsAdapter } from '../net/windows/parse';
import { resolveLifetimes } from '../net/windows/validate';
import { DEADLINE_PASSED, NoSuchInterfaceError, type InterfaceAddress, type RegistrarResult, type VirtualAddress } from './address-types';
import { openDatagram } from './datagram';
import { runNetworkCheck, type CheckRun, type NetworkCheck } from './health-checks';
import { ADDRESS_GONE, type ArpPort, type Host, type NdPort, type HostAddresses, type LateAddressFailure } from './host';

/** A listing is taken when none was taken for this long (batches list too). */
export const DEFAULT_REFRESH_MS = 5000;
/** os.networkInterfaces() is read at most this often (a mass takeover asks once per resource). */
const LIVE_CACHE_MS = 25;
const ZERO_MAC = '00:00:00:00:00:00';
/** While a wanted IPv6 address is listed tentative, a listing is taken this often. */
export const TENTATIVE_POLL_MS = 250;
/** A wanted address tentative longer than this (DAD held up, e.g. by a link without carrier) no longer holds up settled(). */
export const TENTATIVE_MAX_MS = 5000;
/** The code of the late failure for an IPv6 address Windows' duplicate address detection found held elsewhere. */
export const DUPLICATE_ADDRESS = 'EADDRINUSE';

export interface WindowsHostOptions {
  /** The address backend (default: PowerShell, netsh as fallback, records under %ProgramData%\ipfo). */
  backend?: WindowsAddressBackend;
  refreshMs?: number;
  /** libuv's adapter list: only adapters that are up (default os.networkInterfaces). */
  networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  /** Opens the ARP socket on Npcap's device for an adapter (default: `cap`, ArpSocket.openDevice). */
  openCapture?: (iface: InterfaceInfo, device: string) => ArpPort;
  /** Opens the ND socket on Npcap's device for an adapter (default: `cap`, NdSocket.openDevice). */
  openNdCapture?: (iface: InterfaceInfo, device: string) => NdPort;
  /** process.hrtime.bigint() (tests move it). */
  nowNs?: () => bigint;
  /** How long a tentative IPv6 address holds up settled() (default TENTATIVE_MAX_MS; tests shorten it). */
  tentativeMaxMs?: number;
  log?: (line: string) => void;
}

type Change =
  | { kind: 'register'; key: string; ifindex: number; address: VirtualAddress; notAfterNs?: bigint }
  | { kind: 'deregister'; key: string; ifindex: number; address: VirtualAddress };

/** The desired-state facade (see the top of this file). */
export class WindowsAddresses implements HostAddresses {
  private snapshot: WindowsSnapshot;
  /** Changes accepted and not sent yet, by address (ownedKey): the next batch. */
  private readonly pending = new Map<string, Change>();
  /** The batch the backend is applying. */
  private inFlight: Map<string, Change> | null = null;
  /** Addresses we registered and have not deregistered since: a listing without one means Windows lost it. */
  private readonly wanted = new Map<string, VirtualAddress>();
  private started = 0;
  private finished = 0;
  private waiters: Array<{ batch: number; resolve: () => void }> = [];
  private readonly listeners = new Set<(failure: LateAddressFailure) => void>();
  private merged: InterfaceAddress[] | null = null;
  private dispatchQueued = false;
  private refreshing: Promise<void> | null = null;
  private listedAt: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private lastRefreshError = '';
  /** Wanted addresses the last listing shows tentative: since when, and whether past TENTATIVE_MAX_MS. */
  private tentative = new Map<string, { since: number; overdue: boolean }>();
  private tentativeTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly backend: WindowsAddressBackend,
    first: WindowsSnapshot,
    private readonly options: { refreshMs: number; nowNs: () => bigint; log: (line: string) => void; tentativeMaxMs?: number },
  ) {
    this.snapshot = first;
    this.listedAt = performance.now();
    this.timer = setInterval(() => {
      if (performance.now() - this.listedAt >= options.refreshMs) void this.refresh();
    }, Math.max(10, Math.floor(options.refreshMs / 2)));
    this.timer.unref();
  }

  /** The adapters of the last listing (Get-NetAdapter). */
  adapters(): readonly WindowsAdapter[] {
    return this.snapshot.adapters;
  }

  /** Takes a listing now (unless one is being taken); resolves when the cache has it. Never rejects. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.refreshing ??= this.backend
      .snapshot()
      .then(
        (snapshot) => {
          this.lastRefreshError = '';
          this.took(snapshot);
        },
        (error: unknown) => {
          const message = error instanceof Error ? error.message : String(error);
          if (message !== this.lastRefreshError) this.options.log(`windows: listing the addresses failed: ${message}`);
          this.lastRefreshError = message;
        },
      )
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  // ---- HostAddresses ---------------------------------------------------------------------------

  register(list: readonly VirtualAddress[], notAfterNs?: bigint): RegistrarResult[] {
    if (notAfterNs !== undefined && this.options.nowNs() > notAfterNs) {
      return list.map((address) => ({ address, ok: false, code: DEADLINE_PASSED, message: 'not sent: its deadline had passed' }));
    }
    const plan = planRegister(list, this.snapshot.known, this.listBoth());
    for (const { index, item } of plan.items) {
      const address = list[index]!;
      const key = ownedKey(item.ifindex, item.ip, item.prefix);
      this.accept(notAfterNs === undefined ? { kind: 'register', key, ifindex: item.ifindex, address } : { kind: 'register', key, ifindex: item.ifindex, address, notAfterNs });
      this.wanted.set(key, address);
      plan.results[index] = { address, ok: true };
    }
    return complete(list, plan.results);
  }

  deregister(list: readonly VirtualAddress[]): RegistrarResult[] {
    const plan = planDeregister(list, this.snapshot.known, this.listBoth());
    for (const { index, item } of plan.items) {
      const address = list[index]!;
      const key = ownedKey(item.ifindex, item.ip, item.prefix);
      this.accept({ kind: 'deregister', key, ifindex: item.ifindex, address });
      this.wanted.delete(key);
      plan.results[index] = { address, ok: true };
    }
    return complete(list, plan.results);
  }

  listAll(ifname?: string, families: 'ipv4' | 'both' = 'ipv4'): InterfaceAddress[] {
    const all = this.listBoth(ifname);
    return families === 'both' ? all : all.filter((a) => !a.ip.includes(':'));
  }

  listOwned(ifname?: string): InterfaceAddress[] {
    return this.listBoth(ifname).filter((a) => a.owned);
  }

  private listBoth(ifname?: string): InterfaceAddress[] {
    this.merged ??= this.merge();
    if (ifname === undefined) return [...this.merged];
    const ifindex = resolveAlias(ifname, this.snapshot.known);
    if (ifindex === null) throw new NoSuchInterfaceError(ifname);
    return this.merged.filter((a) => a.ifindex === ifindex);
  }

  removeOwnedAnywhere(addresses: ReadonlyArray<{ ip: string; prefix: number }>): number {
    const wanted = new Set(addresses.map((a) => `${a.ip}/${a.prefix}`));
    const found = this.listOwned().filter((a) => wanted.has(`${a.ip}/${a.prefix}`));
    for (const a of found) {
      const key = ownedKey(a.ifindex, a.ip, a.prefix);
      this.accept({ kind: 'deregister', key, ifindex: a.ifindex, address: { ifname: a.ifname ?? String(a.ifindex), ip: a.ip, prefix: a.prefix } });
      this.wanted.delete(key);
    }
    return found.length;
  }

  settled(): Promise<void> | null {
    const batch = this.pending.size > 0 ? this.started + 1 : this.started;
    if (this.finished >= batch && !this.waitingForDad()) return null;
    return new Promise((resolve) => this.waiters.push({ batch, resolve }));
  }

  /** Whether a wanted address is tentative (Windows' DAD runs) and not yet past TENTATIVE_MAX_MS. */
  private waitingForDad(): boolean {
    return [...this.tentative.values()].some((t) => !t.overdue);
  }

  /** Resolves the waiters whose batch has finished, once no wanted address is tentative. */
  private release(): void {
    if (this.waitingForDad()) return;
    const done = this.waiters.filter((w) => w.batch <= this.finished);
    this.waiters = this.waiters.filter((w) => w.batch > this.finished);
    for (const waiter of done) waiter.resolve();
  }

  onLateFailure(listener: (failure: LateAddressFailure) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the background listing. Changes still waiting are sent (await settled() for them). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    if (this.tentativeTimer !== null) clearTimeout(this.tentativeTimer);
    this.tentativeTimer = null;
    // No more listings: nothing waits for Windows' DAD any longer.
    this.tentative = new Map();
    this.release();
  }

  // ---- batches ---------------------------------------------------------------------------------

  private accept(change: Change): void {
    this.pending.set(change.key, change);
    this.merged = null;
    // Everything decided in this turn of the event loop goes in one batch.
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    setImmediate(() => {
      this.dispatchQueued = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    if (this.inFlight !== null || this.pending.size === 0) return;
    const batch = new Map(this.pending);
    this.pending.clear();
    this.inFlight = batch;
    const number = ++this.started;
    const deregister: VirtualAddress[] = [];
    const register: DeadlinedAddress[] = [];
    const sent: Change[] = [];
    for (const change of batch.values()) {
      // By the interface's alias as the latest listing has it (it may have been renamed since).
      const alias = this.snapshot.known.find((k) => k.ifindex === change.ifindex)?.alias ?? change.address.ifname;
      const address = alias === change.address.ifname ? change.address : { ...change.address, ifname: alias };
      sent.push({ ...change, address });
      if (change.kind === 'deregister') deregister.push(address);
      else register.push(change.notAfterNs === undefined ? { address } : { address, notAfterNs: change.notAfterNs });
    }
    this.backend
      .apply({ deregister, register })
      .then(
        (applied) => this.applied(sent, applied),
        (error: unknown) => this.batchFailed(sent, error),
      )
      .finally(() => {
        this.inFlight = null;
        this.merged = null;
        this.finished = number;
        this.release();
        this.dispatch();
      });
  }

  private applied(sent: readonly Change[], applied: AppliedChanges): void {
    const removals = sent.filter((c) => c.kind === 'deregister');
    const additions = sent.filter((c) => c.kind === 'register');
    const failures: LateAddressFailure[] = [];
    applied.deregistered.forEach((result, i) => {
      if (!result.ok) failures.push({ action: 'deregister', address: removals[i]!.address, code: result.code, message: result.message });
    });
    applied.registered.forEach((result, i) => {
      if (result.ok) return;
      const change = additions[i]!;
      // Still listed (a renewal failed): its current lifetime runs on, and a later listing says when it is gone.
      if (!listedIn(applied.after, change.key) && !this.pending.has(change.key)) this.wanted.delete(change.key);
      failures.push({ action: 'register', address: change.address, code: result.code, message: result.message });
    });
    this.inFlight = null; // the outcomes are in the listing now
    this.took(applied.after);
    for (const failure of failures) this.report(failure);
  }

  private batchFailed(sent: readonly Change[], error: unknown): void {
    this.inFlight = null; // none of it is known to have happened: the listing stays as it was
    this.merged = null;
    const message = error instanceof Error ? error.message : String(error);
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'EIO';
    for (const change of sent) {
      if (change.kind === 'register' && !this.pending.has(change.key) && !listedIn(this.snapshot, change.key)) this.wanted.delete(change.key);
      this.report({ action: change.kind, address: change.address, code, message });
    }
    // What Windows carries now is unknown: look.
    void this.refresh();
  }

  /** A new listing: the cache, and the wanted addresses it no longer shows (nothing is on the way for them). */
  private took(snapshot: WindowsSnapshot): void {
    this.snapshot = snapshot;
    this.listedAt = performance.now();
    this.merged = null;
    const now = performance.now();
    const failures: LateAddressFailure[] = [];
    const stillTentative = new Map<string, { since: number; overdue: boolean }>();
    for (const [key, address] of [...this.wanted]) {
      if (this.pending.has(key) || this.inFlight?.has(key)) continue;
      const listed = snapshot.addresses.find((a) => a.owned && ownedKey(a.ifindex, a.ip, a.prefix) === key);
      if (listed === undefined) {
        this.wanted.delete(key);
        failures.push({ action: 'register', address, code: ADDRESS_GONE, message: `${address.ip}/${address.prefix} is no longer on ${address.ifname} (its lifetime ran out, or it was removed outside ipfo)` });
      } else if ((listed.flags & IFA_F_DADFAILED) !== 0) {
        // Windows' DAD heard another holder: the host never carried it. It is ours: removed again.
        this.wanted.delete(key);
        this.accept({ kind: 'deregister', key, ifindex: listed.ifindex, address });
        failures.push({ action: 'register', address, code: DUPLICATE_ADDRESS, message: `Windows' duplicate address detection found ${address.ip} held by another node on ${address.ifname}; the address is removed again` });
      } else if ((listed.flags & IFA_F_TENTATIVE) !== 0) {
        const since = this.tentative.get(key)?.since ?? now;
        const maxMs = this.options.tentativeMaxMs ?? TENTATIVE_MAX_MS;
        const overdue = now - since >= maxMs;
        if (overdue && this.tentative.get(key)?.overdue !== true) this.options.log(`windows: ${address.ip} on ${address.ifname} is still tentative after ${maxMs} ms (duplicate address detection held up); settled() no longer waits for it`);
        stillTentative.set(key, { since, overdue });
      }
    }
    this.tentative = stillTentative;
    if (this.waitingForDad()) this.pollTentative();
    this.release();
    for (const failure of failures) this.report(failure);
  }

  /** A listing soon, while a wanted address is tentative. */
  private pollTentative(): void {
    if (this.tentativeTimer !== null || this.closed) return;
    this.tentativeTimer = setTimeout(() => {
      this.tentativeTimer = null;
      void this.refresh();
    }, TENTATIVE_POLL_MS);
    // Not unref'd: settled() waits for this listing, as it waits for a batch's PowerShell process.
  }

  private report(failure: LateAddressFailure): void {
    if (this.listeners.size === 0) {
      this.options.log(`windows: ${failure.action} ${failure.address.ip}/${failure.address.prefix} on ${failure.address.ifname} failed: ${failure.message}`);
      return;
    }
    for (const listener of [...this.listeners]) listener(failure);
  }

  /** The last listing with the batch in flight and the waiting changes applied, in that order. */
  private merge(): InterfaceAddress[] {
    const byKey = new Map(this.snapshot.addresses.map((a) => [ownedKey(a.ifindex, a.ip, a.prefix), a]));
    for (const changes of [this.inFlight, this.pending]) {
      if (changes === null) continue;
      for (const change of changes.values()) {
        const existing = byKey.get(change.key);
        if (change.kind === 'deregister') {
          if (existing?.owned) byKey.delete(change.key);
          continue;
        }
        if (existing !== undefined && !existing.owned) continue; // someone else's: the backend refuses it
        const alias = this.snapshot.known.find((k) => k.ifindex === change.ifindex)?.alias ?? change.address.ifname;
        const { validSec, preferredSec } = resolveLifetimes(change.address.validLftSec, change.address.preferredLftSec);
        byKey.delete(change.key);
        byKey.set(change.key, { ifname: alias, ifindex: change.ifindex, ip: change.address.ip, prefix: change.address.prefix, proto: IPFO_ADDR_PROTO, owned: true, label: alias, validLftSec: validSec, preferredLftSec: preferredSec, flags: existing?.flags ?? 0 });
      }
    }
    return [...byKey.values()];
  }
}

function listedIn(snapshot: WindowsSnapshot, key: string): boolean {
  return snapshot.addresses.some((a) => a.owned && ownedKey(a.ifindex, a.ip, a.prefix) === key);
}

function complete(list: readonly VirtualAddress[], results: readonly (RegistrarResult | undefined)[]): RegistrarResult[] {
  return list.map((address, i) => results[i] ?? { address, ok: false, code: 'EIO', message: 'no result' });
}

export class WindowsHost implements Host {
  readonly addresses: WindowsAddresses;
  private readonly readInterfaces: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
  private readonly openCapture: (iface: InterfaceInfo, device: string) => ArpPort;
  private readonly openNdCapture: (iface: InterfaceInfo, device: string) => NdPort;
  private live: { at: number; table: NodeJS.Dict<NetworkInterfaceInfo[]> } | null = null;

  constructor(backend: WindowsAddressBackend, first: WindowsSnapshot, options: WindowsHostOptions = {}) {
    this.addresses = new WindowsAddresses(backend, first, {
      refreshMs: options.refreshMs ?? DEFAULT_REFRESH_MS,
      nowNs: options.nowNs ?? (() => process.hrtime.bigint()),
      log: options.log ?? (() => undefined),
      ...(options.tentativeMaxMs === undefined ? {} : { tentativeMaxMs: options.tentativeMaxMs }),
    });
    this.readInterfaces = options.networkInterfaces ?? osNetworkInterfaces;
    this.openCapture = options.openCapture ?? ((iface, device) => ArpSocket.openDevice(iface, device));
    this.openNdCapture = options.openNdCapture ?? ((iface, device) => NdSocket.openDevice(iface, device));
  }

  /** The adapter called `ifname` in the last listing (aliases compare without case, as on Windows). */
  private adapterOf(ifname: string): WindowsAdapter | null {
    const adapters = this.addresses.adapters();
    const ifindex = resolveAlias(ifname, adapters.map((a) => ({ alias: a.name, ifindex: a.ifindex })));
    return adapters.find((a) => a.ifindex === ifindex) ?? null;
  }

  /** libuv's entry for an adapter that is up (OperStatus Up, with an address); undefined when it is not listed. */
  private upEntry(adapter: WindowsAdapter): NetworkInterfaceInfo | undefined {
    const now = performance.now();
    if (this.live === null || now - this.live.at > LIVE_CACHE_MS) {
      let table: NodeJS.Dict<NetworkInterfaceInfo[]> = {};
      try {
        table = this.readInterfaces();
      } catch {
        // unreadable: every adapter counts as down
      }
      this.live = { at: now, table };
    }
    const names = Object.keys(this.live.table);
    const name = names.includes(adapter.name) ? adapter.name : names.find((n) => n.toUpperCase() === adapter.name.toUpperCase());
    return name === undefined ? undefined : this.live.table[name]?.[0];
  }

  interfaceState(ifname: string): InterfaceState | null {
    const adapter = this.adapterOf(ifname);
    if (adapter === null) return null;
    const up = this.upEntry(adapter);
    if (up !== undefined) return { index: adapter.ifindex, mac: up.mac.toLowerCase(), adminUp: true, carrier: true };
    // libuv lists only adapters that are up: this one is disconnected, disabled or gone (the next listing says which).
    return { index: adapter.ifindex, mac: adapter.mac ?? ZERO_MAC, adminUp: adapter.status !== 'Disabled', carrier: false };
  }

  macs(): Record<string, Mac> {
    const macs: Record<string, Mac> = {};
    for (const adapter of this.addresses.adapters()) {
      if (adapter.mac === null) continue;
      macs[adapter.name] = this.upEntry(adapter)?.mac.toLowerCase() ?? adapter.mac;
    }
    return macs;
  }

  prepareInterface(): boolean {
    // Nothing to do: Windows keeps every address of a subnet when another one is removed.
    return true;
  }

  /** The interface and Npcap device of a capture on `ifname`; throws PacketIoError as openArp does. */
  private captureTarget(ifname: string): { iface: InterfaceInfo; device: string } {
    const adapter = this.adapterOf(ifname);
    if (adapter === null) throw new PacketIoError('NO_SUCH_INTERFACE', `no such interface "${ifname}"`);
    if (adapter.guid === null) throw new PacketIoError('OPEN_FAILED', `cannot capture on "${ifname}": Get-NetAdapter names no InterfaceGuid for it (Npcap opens \\Device\\NPF_{GUID})`);
    const state = this.interfaceState(ifname);
    return { iface: { name: ifname, index: adapter.ifindex, mac: state?.mac ?? adapter.mac ?? ZERO_MAC, up: state?.carrier ?? false }, device: npcapDeviceName(adapter.guid) };
  }

  openArp(ifname: string): ArpPort {
    const { iface, device } = this.captureTarget(ifname);
    return this.openCapture(iface, device);
  }

  /**
   * ND through `cap` on Npcap like ARP (net/nd-socket.ts's filter and codec); the solicited-node groups
   * are joined by a UDP socket on the adapter's index (net/multicast-listener.ts: "::%<ifindex>" on Windows).
   */
  openNd(ifname: string): NdPort {
    const { iface, device } = this.captureTarget(ifname);
    return this.openNdCapture(iface, device);
  }

  openProbeAnswers(): null {
    // No capture of our own on Windows: the standby hears the answers on the shared `cap` socket.
    return null;
  }

  openDatagram = openDatagram;

  openFrameTap(ifname: string): { close(): void } {
    throw new Error(`the straggler capture is not available on Windows (${ifname}): a handoff's convergence is not watched there`);
  }

  runCheck(check: NetworkCheck, timeoutMs: number): Promise<CheckRun> {
    return runNetworkCheck(check, timeoutMs);
  }

  /** Not read on Windows (no /proc/net/route): the gateway check there needs its address. */
  defaultGateway(): string | null {
    return null;
  }

  close(): void {
    this.addresses.close();
  }
}

/** The Windows host, with its first listing taken (the synchronous calls answer from it). */
export async function openWindowsHost(options: WindowsHostOptions = {}): Promise<WindowsHost> {
  const backend = options.backend ?? createWindowsAddressBackend();
  return new WindowsHost(backend, await backend.snapshot(), options);
}

/** `--state-dir` on Windows: the Linux default (/run/ipfo) becomes %ProgramData%\ipfo\run. */
export function windowsStateDir(stateDir: string, linuxDefault: string, env: NodeJS.ProcessEnv = process.env): string {
  return stateDir === linuxDefault ? win32.join(env.ProgramData ?? 'C:\\ProgramData', 'ipfo', 'run') : stateDir;
}
