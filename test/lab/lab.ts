// A real LAN for the lab tests, built from Linux network namespaces:
//
//   ipfo<id>-sw   "switch" namespace holding the bridge ipfo<id>-br and one
//                 port per host (ipfo<id>-n1, ...). Nothing lives in the host
//                 namespace, so deleting the lab's namespaces deletes every veth.
//   ipfo<id>-n1.. cluster nodes, ipfo<id>-c1.. clients, ipfo<id>-r1 rogue:
//                 each has one interface "lan0" (the bridge port's peer) with a
//                 locally administered MAC 02:1f:<id>:<last octet of its IP>
//                 and one address in 10.213.<k>.0/24 (k claimed per lab).
//
// Teardown is lab.destroy() (idempotent), withLab() (destroy in finally), the
// process-wide hooks in cleanup.ts (exit, signals, uncaught exceptions), and
// sweepStaleLabs() for labs whose owning process was killed outright.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { registerLab, unregisterLab, type TeardownTarget } from './cleanup';
import {
  claimSubnet,
  createLabRecord,
  currentProcessIdentity,
  labNamespaceName,
  releaseSubnet,
  removeLabRecord,
  updateLabRecord,
  type LabRecord,
} from './lab-state';
import {
  abortCommandsSync,
  bridgeCommand,
  deleteNamespace,
  deleteNamespaceSync,
  ip,
  listNamespaces,
  namespacePids,
  namespacePidsSync,
  readSysctl,
  runCommand,
  setSysctls,
  type CommandResult,
} from './netns';
import { DEFAULT_GRACE_MS, ProcessTracker, stopChild, stopPids, stopPidsSync } from './processes';

export type HostRole = 'node' | 'client' | 'rogue';

export interface LabHost {
  /** 'n1', 'c1', 'r1'. */
  readonly name: string;
  readonly role: HostRole;
  /** Network namespace, e.g. 'ipfo3f2a1b-n1'. */
  readonly ns: string;
  readonly ifname: typeof LAB_IFNAME;
  readonly mac: string;
  readonly ip: string;
  readonly prefix: 24;
  /** The host's address in the lab's IPv6 /64 (configured only in a lab created with ipv6). */
  readonly ip6: string;
  /** The host's bridge port (in the switch namespace). */
  readonly port: string;
}

export interface LabOptions {
  nodes?: number;
  clients?: number;
  rogue?: boolean;
  /** Free-form label kept in the lab record (shows up in the sweeper's report). */
  name?: string;
  /**
   * IPv6 on the hosts (never on the switch): each host's lan0 gets a link-local address and
   * `ip6` in the lab's /64, and the kernels run their normal neighbour discovery. Off by default.
   */
  ipv6?: boolean;
}

export type NudState = 'stale' | 'reachable' | 'permanent';

export interface NeighborEntry {
  /** Null while unresolved (incomplete/failed). */
  mac: string | null;
  /** Kernel NUD state in lower case: 'reachable', 'stale', 'delay', 'probe', 'failed', 'incomplete', 'permanent', 'noarp'. */
  state: string;
}

export interface LabSpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
}

export interface LabRunOptions {
  /** Kill (SIGTERM, then SIGKILL) after this long; default 30 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed (without it, stdin is /dev/null). */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface LabRunResult extends CommandResult {
  timedOut: boolean;
}

export const LAB_IFNAME = 'lan0';
export const LAB_PREFIX = 24;
const SUBNET_BASE = '10.213';
/** Documentation prefix (RFC 3849); a lab's /64 is 2001:db8:d5:<subnet index in hex>::/64. */
const SUBNET6_BASE = '2001:db8:d5';
export const LAB_PREFIX6 = 64;
const MAX_NODES = 39; // .11 - .49
const MAX_CLIENTS = 15; // .51 - .65
const ROGUE_OCTET = 66;
const MAX_VIPS = 150; // .101 - .250
const BRIDGE_MAC_OCTET = 0xfe;

// Every namespace: IPv6 off, so the wire carries only what the tests make
// (no DAD, router/neighbour solicitations or MLD reports from lan0, the
// bridge or its ports). Set on 'default' too, before any interface exists,
// so lan0 and the bridge are born with it.
const QUIET_IPV6: Readonly<Record<string, number>> = {
  'net.ipv6.conf.all.disable_ipv6': 1,
  'net.ipv6.conf.default.disable_ipv6': 1,
};

// Host namespaces: ARP behaviour pinned to the kernel defaults. A new
// namespace inherits IPv4 conf/{all,default} from the host's init namespace
// (net.core.devconf_inherit_init_net=0), so a tuned host would otherwise leak
// into the lab. With these defaults a host answers ARP for any local address
// on any interface (arp_ignore=0), uses the packet's source as ARP sender
// (arp_announce=0), updates but never creates cache entries from gratuitous
// ARP (arp_accept=0) and sends no gratuitous ARP by itself on link changes
// (arp_notify=0): exactly the stations the product has to move addresses for.
// Deliberately NOT set: net.ipv4.neigh.lan0.locktime stays at the kernel
// default (100 = 1 s). The tests rely on its effect: within 1 s of an entry's
// last update, an ordinary ARP reply carrying a different MAC does not replace
// it (when two stations answer, the first answer wins), while a gratuitous ARP
// always does. lab.test.ts checks the value.
const ARP_DEFAULTS: Readonly<Record<string, number>> = {
  'net.ipv4.conf.all.arp_ignore': 0,
  'net.ipv4.conf.default.arp_ignore': 0,
  'net.ipv4.conf.all.arp_announce': 0,
  'net.ipv4.conf.default.arp_announce': 0,
  'net.ipv4.conf.all.arp_accept': 0,
  'net.ipv4.conf.default.arp_accept': 0,
  'net.ipv4.conf.all.arp_notify': 0,
  'net.ipv4.conf.default.arp_notify': 0,
  'net.ipv4.conf.all.arp_filter': 0,
  'net.ipv4.conf.default.arp_filter': 0,
  'net.ipv4.conf.all.drop_gratuitous_arp': 0,
  'net.ipv4.conf.default.drop_gratuitous_arp': 0,
};

const HOST_SYSCTLS: Readonly<Record<string, number>> = { ...QUIET_IPV6, ...ARP_DEFAULTS };

// Hosts of an IPv6 lab: IPv6 on with the kernel's normal neighbour discovery (DAD, NUD, answering
// solicitations) — what the product must move addresses for — but no router discovery, no router on the
// lab, so no host sends solicitations the tests did not cause, and neighbour entries pinned to defaults.
const HOST_SYSCTLS_IPV6: Readonly<Record<string, number>> = {
  ...ARP_DEFAULTS,
  'net.ipv6.conf.all.disable_ipv6': 0,
  'net.ipv6.conf.default.disable_ipv6': 0,
  'net.ipv6.conf.all.accept_ra': 0,
  'net.ipv6.conf.default.accept_ra': 0,
  'net.ipv6.conf.all.router_solicitations': 0,
  'net.ipv6.conf.default.router_solicitations': 0,
  'net.ipv6.conf.all.ndisc_notify': 0,
  'net.ipv6.conf.default.ndisc_notify': 0,
};

const MAC_PATTERN = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function octetHex(value: number): string {
  return value.toString(16).padStart(2, '0');
}

function labMac(labId: string, lastOctet: number): string {
  const idBytes = labId.match(/../g) ?? [];
  return ['02', '1f', ...idBytes, octetHex(lastOctet)].join(':');
}

function hostName(host: LabHost | string): string {
  return typeof host === 'string' ? host : host.name;
}

function countOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const count = value ?? fallback;
  if (!Number.isInteger(count) || count < min || count > max) throw new RangeError(`createLab: ${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  return count;
}

/** Like Promise.all, but rejects only after every step has finished, so a failed build is never torn down under a step still running. */
async function settleAll(steps: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((outcome) => outcome.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

function parseJsonArray(text: string): unknown[] {
  if (text.trim() === '') return [];
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

export class Lab implements TeardownTarget {
  readonly hosts: readonly LabHost[];
  readonly nodes: readonly LabHost[];
  readonly clients: readonly LabHost[];
  readonly rogue: LabHost | undefined;
  readonly switchNs: string;
  readonly bridge: string;
  /** '10.213.<k>.0/24'. */
  readonly subnet: string;
  /** '2001:db8:d5:<k>::/64', used only by a lab created with ipv6. */
  readonly subnet6: string;
  private readonly subnetPrefix: string;
  private readonly subnet6Prefix: string;
  private readonly tracker = new ProcessTracker();
  private destroying: Promise<void> | null = null;
  private destroyed = false;

  /** Use createLab() / withLab(). */
  constructor(
    readonly id: string,
    readonly subnetIndex: number,
    readonly layout: { nodes: number; clients: number; rogue: boolean; ipv6: boolean },
  ) {
    this.subnetPrefix = `${SUBNET_BASE}.${subnetIndex}`;
    this.subnet = `${this.subnetPrefix}.0/${LAB_PREFIX}`;
    this.subnet6Prefix = `${SUBNET6_BASE}:${subnetIndex.toString(16)}:`;
    this.subnet6 = `${this.subnet6Prefix}:/${LAB_PREFIX6}`;
    this.switchNs = labNamespaceName(id, 'sw');
    this.bridge = `ipfo${id}-br`;
    const make = (name: string, role: HostRole, lastOctet: number): LabHost => ({
      name,
      role,
      ns: labNamespaceName(id, name),
      ifname: LAB_IFNAME,
      mac: labMac(id, lastOctet),
      ip: `${this.subnetPrefix}.${lastOctet}`,
      prefix: LAB_PREFIX,
      ip6: `${this.subnet6Prefix}:${lastOctet.toString(16)}`,
      port: `ipfo${id}-${name}`,
    });
    this.nodes = Array.from({ length: layout.nodes }, (_, i) => make(`n${i + 1}`, 'node', 11 + i));
    this.clients = Array.from({ length: layout.clients }, (_, i) => make(`c${i + 1}`, 'client', 51 + i));
    this.rogue = layout.rogue ? make('r1', 'rogue', ROGUE_OCTET) : undefined;
    this.hosts = [...this.nodes, ...this.clients, ...(this.rogue ? [this.rogue] : [])];
  }

  /** Every namespace of the lab, switch first. */
  get namespaces(): string[] {
    return [this.switchNs, ...this.hosts.map((host) => host.ns)];
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  host(name: string): LabHost {
    const found = this.hosts.find((host) => host.name === name);
    if (found === undefined) throw new Error(`lab ${this.id} has no host "${name}" (hosts: ${this.hosts.map((h) => h.name).join(', ')})`);
    return found;
  }

  private resolve(host: LabHost | string): LabHost {
    const found = this.host(hostName(host));
    if (typeof host !== 'string' && host.ns !== found.ns) throw new Error(`host ${host.ns} belongs to another lab than ${this.id}`);
    return found;
  }

  /** Virtual address number n (1..150) of this lab: 10.213.<k>.(100 + n). */
  vip(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > MAX_VIPS) throw new RangeError(`vip(n): n must be 1..${MAX_VIPS}, got ${n}`);
    return `${this.subnetPrefix}.${100 + n}`;
  }

  /** Virtual IPv6 address number n (1..150) of this lab: 2001:db8:d5:<k>::<100 + n, in hex>. */
  vip6(n: number): string {
    if (!Number.isInteger(n) || n < 1 || n > MAX_VIPS) throw new RangeError(`vip6(n): n must be 1..${MAX_VIPS}, got ${n}`);
    return `${this.subnet6Prefix}:${(100 + n).toString(16)}`;
  }

  /** True for addresses inside this lab's /24, or its /64 when it has IPv6 (the only ones tests may use). */
  contains(address: string): boolean {
    if (address.includes(':')) return this.layout.ipv6 && address.startsWith(`${this.subnet6Prefix}:`) && /^[0-9a-f:]+$/.test(address);
    const match = /^(\d+\.\d+\.\d+)\.(\d+)$/.exec(address);
    return match?.[1] === this.subnetPrefix && Number(match[2]) >= 1 && Number(match[2]) <= 254;
  }

  private requireLabAddress(address: string): void {
    if (!this.contains(address)) throw new RangeError(`${address} is outside lab ${this.id}'s subnet ${this.subnet}`);
  }

  private requireAlive(): void {
    if (this.destroyed || this.destroying !== null) throw new Error(`lab ${this.id} is destroyed`);
  }

  // ---- building ---------------------------------------------------------

  /** @internal Called once by createLab. */
  async build(): Promise<void> {
    // Sequential: `ip netns add` mounts under /run/netns; no need to race that.
    // A teardown hook may fire between steps (a signal with another listener
    // that keeps the process alive): stop building rather than recreate.
    for (const ns of this.namespaces) {
      this.requireNotTornDown();
      await ip(['netns', 'add', ns]);
    }
    this.requireNotTornDown();
    const hostSysctls = this.layout.ipv6 ? HOST_SYSCTLS_IPV6 : HOST_SYSCTLS;
    await settleAll(this.namespaces.map((ns) => setSysctls(ns, ns === this.switchNs ? QUIET_IPV6 : hostSysctls)));
    // stp off and forward_delay 0: a port forwards the moment it is up (no
    // listening/learning states), so a test never waits for the bridge.
    // mcast_snooping off: every broadcast/multicast simply floods.
    await ip([
      '-n', this.switchNs, 'link', 'add', this.bridge, 'address', labMac(this.id, BRIDGE_MAC_OCTET),
      'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0',
    ]);
    await ip(['-n', this.switchNs, 'link', 'set', this.bridge, 'up']);
    this.requireNotTornDown();
    await settleAll(this.hosts.map((host) => this.plug(host)));
  }

  private requireNotTornDown(): void {
    if (this.destroyed) throw new Error(`lab ${this.id} was torn down while it was being built`);
  }

  private async plug(host: LabHost): Promise<void> {
    // The peer is created directly inside the host namespace under its final
    // name, so no lab interface ever appears in the host's namespace.
    await ip(['-n', this.switchNs, 'link', 'add', host.port, 'type', 'veth', 'peer', 'name', LAB_IFNAME, 'address', host.mac, 'netns', host.ns]);
    await ip(['-n', this.switchNs, 'link', 'set', host.port, 'master', this.bridge, 'up']);
    await ip(['-n', host.ns, 'addr', 'add', `${host.ip}/${LAB_PREFIX}`, 'brd', '+', 'dev', LAB_IFNAME]);
    // nodad: the lab's own addresses are unique by construction; a test waits for nothing but what it tests.
    if (this.layout.ipv6) await ip(['-n', host.ns, 'addr', 'add', `${host.ip6}/${LAB_PREFIX6}`, 'dev', LAB_IFNAME, 'nodad']);
    await ip(['-n', host.ns, 'link', 'set', LAB_IFNAME, 'up']);
    await ip(['-n', host.ns, 'link', 'set', 'lo', 'up']);
  }

  // ---- processes ------------------------------------------------------------

  /**
   * Starts `argv` inside the host's namespace (`ip netns exec`, which execs,
   * so child.pid is the program itself). The child leads its own process group,
   * and destroy() stops it (SIGTERM, SIGKILL after a grace period).
   */
  spawn(host: LabHost | string, argv: readonly string[], options: LabSpawnOptions = {}): ChildProcess {
    this.requireAlive();
    if (argv.length === 0) throw new Error('lab.spawn: argv is empty');
    const target = this.resolve(host);
    const child = spawn('ip', ['netns', 'exec', target.ns, ...argv], {
      detached: true,
      stdio: options.stdio ?? 'pipe',
      env: options.env ?? process.env,
      cwd: options.cwd,
    });
    this.tracker.track(child);
    return child;
  }

  /** Runs `argv` in the host's namespace to completion and collects its output. */
  run(host: LabHost | string, argv: readonly string[], options: LabRunOptions = {}): Promise<LabRunResult> {
    // Without input, stdin is /dev/null: a program that reads stdin sees EOF at once
    // instead of hanging until the timeout.
    const stdin = options.input === undefined ? 'ignore' : 'pipe';
    const child = this.spawn(host, argv, { env: options.env, cwd: options.cwd, stdio: [stdin, 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
      const timer = setTimeout(() => {
        timedOut = true;
        void stopChild(child);
      }, options.timeoutMs ?? 30_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
    });
  }

  /** Stops one process started by this lab (SIGTERM, SIGKILL after graceMs). */
  stop(child: ChildProcess, graceMs = DEFAULT_GRACE_MS): Promise<void> {
    return stopChild(child, graceMs);
  }

  /** PIDs of the lab's processes still running (as spawned; not their children). */
  trackedPids(): number[] {
    return this.tracker.pids();
  }

  // ---- observers and knobs --------------------------------------------------

  /** The host's neighbour entry for `address` on lan0, or null if it has none. */
  async neighbor(host: LabHost | string, address: string): Promise<NeighborEntry | null> {
    const target = this.resolve(host);
    const entries = parseJsonArray(await ip(['-n', target.ns, '-j', 'neigh', 'show', 'to', address, 'dev', LAB_IFNAME]));
    const entry = entries.find((e) => field(e, 'dst') === address);
    if (entry === undefined) return null;
    const lladdr = field(entry, 'lladdr');
    const states = field(entry, 'state');
    const state = Array.isArray(states) && typeof states[0] === 'string' ? states[0].toLowerCase() : 'unknown';
    return { mac: typeof lladdr === 'string' ? lladdr.toLowerCase() : null, state };
  }

  /** IPv4 addresses on the host's lan0 as 'a.b.c.d/p', primary first. */
  async addresses(host: LabHost | string): Promise<string[]> {
    return this.familyAddresses(host, 'inet');
  }

  /** IPv6 addresses on the host's lan0 (link-local too) as 'x::y/p'. */
  async addresses6(host: LabHost | string): Promise<string[]> {
    return this.familyAddresses(host, 'inet6');
  }

  private async familyAddresses(host: LabHost | string, family: 'inet' | 'inet6'): Promise<string[]> {
    const target = this.resolve(host);
    const links = parseJsonArray(await ip(['-n', target.ns, '-j', 'addr', 'show', 'dev', LAB_IFNAME]));
    const infos = links.flatMap((link) => {
      const info = field(link, 'addr_info');
      return Array.isArray(info) ? (info as unknown[]) : [];
    });
    return infos
      .filter((info) => field(info, 'family') === family)
      .map((info) => `${String(field(info, 'local'))}/${String(field(info, 'prefixlen'))}`);
  }

  /** Writes a neighbour entry on the host (ip neigh replace ... nud <nud>). */
  async setNeighbor(host: LabHost | string, address: string, mac: string, nud: NudState): Promise<void> {
    this.requireLabAddress(address);
    if (!MAC_PATTERN.test(mac)) throw new Error(`setNeighbor: bad MAC "${mac}"`);
    const target = this.resolve(host);
    await ip(['-n', target.ns, 'neigh', 'replace', address, 'lladdr', mac, 'dev', LAB_IFNAME, 'nud', nud]);
  }

  /** Removes the host's entry for `address` (no error if there is none). */
  async deleteNeighbor(host: LabHost | string, address: string): Promise<void> {
    this.requireLabAddress(address);
    const target = this.resolve(host);
    await runCommand('ip', ['-n', target.ns, 'neigh', 'del', address, 'dev', LAB_IFNAME]);
  }

  /** Empties the host's neighbour table on lan0, permanent entries included. */
  async flushNeighbors(host: LabHost | string): Promise<void> {
    const target = this.resolve(host);
    await ip(['-n', target.ns, 'neigh', 'flush', 'dev', LAB_IFNAME, 'nud', 'all']);
  }

  /**
   * Cuts (or restores) a host's cable: its bridge port goes down in the switch
   * namespace. The host sees carrier loss on lan0 (NO-CARRIER), and with the
   * default arp_evict_nocarrier=1 its kernel drops its ARP entries, like a
   * pulled cable. For a silent partition use setPartitioned().
   */
  async setLinkUp(host: LabHost | string, up: boolean): Promise<void> {
    const target = this.resolve(host);
    await ip(['-n', this.switchNs, 'link', 'set', target.port, up ? 'up' : 'down']);
  }

  /**
   * Isolates (or reconnects) a host at the switch without touching carrier:
   * its bridge port is set to the 'disabled' STP state, so the bridge drops
   * frames to and from it while the host still believes its link is fine (a
   * failed switch port or a partitioned VLAN).
   */
  async setPartitioned(host: LabHost | string, partitioned: boolean): Promise<void> {
    const target = this.resolve(host);
    await bridgeCommand(['-n', this.switchNs, 'link', 'set', 'dev', target.port, 'state', partitioned ? '0' : '3']);
  }

  /** Sets the host's own lan0 down or up, inside its namespace (as an administrator on the node would). */
  async setAdminUp(host: LabHost | string, up: boolean): Promise<void> {
    const target = this.resolve(host);
    await ip(['-n', target.ns, 'link', 'set', LAB_IFNAME, up ? 'up' : 'down']);
  }

  /**
   * Deletes the host's lan0 (its veth pair goes with it) and creates it again under the same name, MAC
   * and address: the new interface has a new ifindex, as after a driver reload or a hot-plugged NIC.
   * With `gapMs`, the host is without lan0 that long.
   */
  async recreateInterface(host: LabHost | string, gapMs = 0): Promise<void> {
    const target = this.resolve(host);
    await ip(['-n', target.ns, 'link', 'del', LAB_IFNAME]);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    await this.plug(target);
  }

  /** Reads a sysctl inside the host's namespace. */
  sysctl(host: LabHost | string, key: string): Promise<string> {
    return readSysctl(this.resolve(host).ns, key);
  }

  // ---- teardown -------------------------------------------------------------

  /** Stops every process of the lab and deletes all its namespaces. Idempotent. */
  destroy(): Promise<void> {
    this.destroying ??= this.teardown();
    return this.destroying;
  }

  private async teardown(): Promise<void> {
    await this.tracker.stopAll();
    // Processes our children left behind in the namespaces (daemons that
    // changed process group, orphans): all started for this lab.
    const stray = [...new Set((await Promise.all(this.namespaces.map(namespacePids))).flat())];
    await stopPids(stray, 500);
    const failures: unknown[] = [];
    for (const ns of this.teardownOrder()) {
      try {
        await deleteNamespace(ns);
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) {
      // Keep the record and the registration: the exit hook or the sweeper retries.
      this.destroying = null;
      throw new AggregateError(failures, `lab ${this.id}: some namespaces could not be deleted`);
    }
    this.forget();
  }

  /** @internal Synchronous teardown for the process hooks in cleanup.ts. */
  destroySync(_reason: string): void {
    if (this.destroyed) return;
    // Mid-build (or mid-observation) `ip` commands first: one finishing later could recreate something.
    abortCommandsSync();
    this.tracker.stopAllSync(DEFAULT_GRACE_MS);
    stopPidsSync([...new Set(this.namespaces.flatMap(namespacePidsSync))], 300);
    for (const ns of this.teardownOrder()) deleteNamespaceSync(ns);
    this.forget();
  }

  /** Host namespaces first (each takes its veth pair along), the switch last. */
  private teardownOrder(): string[] {
    return [...this.hosts.map((host) => host.ns), this.switchNs];
  }

  private forget(): void {
    this.destroyed = true;
    releaseSubnet(this.subnetIndex, this.id);
    removeLabRecord(this.id);
    unregisterLab(this);
  }
}

function newLabId(): string {
  return randomBytes(3).toString('hex');
}

/** Builds a lab; on any failure whatever was created is deleted before the error is rethrown. */
export async function createLab(options: LabOptions = {}): Promise<Lab> {
  const layout = {
    nodes: countOption('nodes', options.nodes, 2, 1, MAX_NODES),
    clients: countOption('clients', options.clients, 1, 0, MAX_CLIENTS),
    rogue: options.rogue ?? true,
    ipv6: options.ipv6 ?? false,
  };
  const owner = currentProcessIdentity();
  const existing = listNamespaces();
  let record: LabRecord | null = null;
  for (let attempt = 0; attempt < 32 && record === null; attempt += 1) {
    const id = newLabId();
    if (existing.some((ns) => ns.startsWith(`ipfo${id}-`))) continue;
    const roles = [
      'sw',
      ...Array.from({ length: layout.nodes }, (_, i) => `n${i + 1}`),
      ...Array.from({ length: layout.clients }, (_, i) => `c${i + 1}`),
      ...(layout.rogue ? ['r1'] : []),
    ];
    const candidate: LabRecord = {
      id,
      label: options.name ?? '',
      owner,
      subnetIndex: null,
      namespaces: roles.map((role) => labNamespaceName(id, role)),
      createdAt: new Date().toISOString(),
    };
    // The record exists before any namespace does, so a crash at any later
    // point leaves something the sweeper can find.
    if (createLabRecord(candidate)) record = candidate;
  }
  if (record === null) throw new Error('createLab: could not pick a free lab id');

  let subnetIndex: number;
  try {
    subnetIndex = claimSubnet(record.id, (parseInt(record.id, 16) % 254) + 1, owner);
    record.subnetIndex = subnetIndex;
    updateLabRecord(record);
  } catch (error) {
    removeLabRecord(record.id);
    throw error;
  }

  const lab = new Lab(record.id, subnetIndex, layout);
  registerLab(lab);
  try {
    await lab.build();
  } catch (error) {
    await lab.destroy().catch((teardownError: unknown) => {
      process.stderr.write(`lab ${lab.id}: cleanup after failed build also failed: ${String(teardownError)}\n`);
    });
    throw error;
  }
  return lab;
}

/** Creates a lab, runs `body`, and always destroys the lab; `body`'s error wins over a teardown error. */
export async function withLab<T>(options: LabOptions, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(options);
  let result: T;
  try {
    result = await body(lab);
  } catch (error) {
    await lab.destroy().catch((teardownError: unknown) => {
      process.stderr.write(`lab ${lab.id}: teardown failed: ${String(teardownError)}\n`);
    });
    throw error;
  }
  await lab.destroy();
  return result;
}

export type LabTool = 'udp-echo' | 'udp-stream';

/** argv that runs one of the compiled lab tools with this Node binary. */
export function toolArgv(tool: LabTool, args: readonly string[] = []): string[] {
  return [process.execPath, join(__dirname, 'tools', `${tool}.js`), ...args];
}
