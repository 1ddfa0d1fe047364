// A real etcd for tests: Debian's /usr/bin/etcd (package etcd-server) on free ports of
// 127.0.0.1 (or of a lab address, inside a lab namespace), a temporary data dir, quiet logs.
// stop()/start() keep the data dir and the ports, so tests can take etcd away and bring it
// back as it was; destroy() kills it by PID and removes the dir. A process-exit hook does the
// same if a test dies before its after-hook runs. With `tls` it serves https (and with clientCertAuth
// wants a client certificate signed by the CA); etcdctl() runs etcdctl against it with the same files.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerLab, unregisterLab, type TeardownTarget } from './cleanup';
import { runCommand, type CommandResult } from './netns';
import { isProcessRunning, processStartTicks, signalPid, sleepSync, stopChild } from './processes';

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';

export interface EtcdOptions {
  /** Address to listen on (default 127.0.0.1). A lab address needs `netns` too. */
  host?: string;
  /** Run inside this network namespace (through `ip netns exec`, which execs etcd: same PID). */
  netns?: string;
  /** Fixed ports; by default free ports of the host are picked (only valid for 127.0.0.1). */
  clientPort?: number;
  peerPort?: number;
  /** How long start() waits for `endpoint health`. */
  startTimeoutMs?: number;
  /** Serve clients over TLS (files: PEM); clientCertAuth = etcd's --client-cert-auth. */
  tls?: EtcdTls;
}

export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
  clientCertAuth: boolean;
  /** The client certificate etcdctl uses (needed with clientCertAuth). */
  ctlCert?: string;
  ctlKey?: string;
}

const DEFAULT_START_TIMEOUT_MS = 15_000;
const HEALTH_POLL_MS = 50;
const STOP_GRACE_MS = 3000;

/** Asks the kernel for a free TCP port on 127.0.0.1 (free now; etcd binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

let instanceCounter = 0;

export class EtcdServer implements TeardownTarget {
  readonly id: string;
  readonly dataDir: string;
  private child: ChildProcess | null = null;
  private childStartTicks: string | null = null;
  private stderrTail = '';
  private destroyed = false;
  /** `--user name:password` for etcdctl once etcd's authentication is on (useCtlUser). */
  private ctlUser: string | null = null;

  private constructor(
    readonly host: string,
    readonly clientPort: number,
    readonly peerPort: number,
    private readonly netns: string | undefined,
    private readonly startTimeoutMs: number,
    readonly tls: EtcdTls | null = null,
  ) {
    instanceCounter += 1;
    this.id = `etcd-${process.pid}-${instanceCounter}`;
    this.dataDir = mkdtempSync(join(tmpdir(), 'ipfo-etcd-'));
  }

  /** Creates the data dir, starts etcd and waits until it is healthy. */
  static async launch(options: EtcdOptions = {}): Promise<EtcdServer> {
    const host = options.host ?? '127.0.0.1';
    if (host !== '127.0.0.1' && (options.clientPort === undefined || options.peerPort === undefined)) {
      throw new Error('an etcd on a lab address needs fixed clientPort and peerPort');
    }
    const clientPort = options.clientPort ?? (await freePort());
    const peerPort = options.peerPort ?? (await freePort());
    const server = new EtcdServer(host, clientPort, peerPort, options.netns, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, options.tls ?? null);
    registerLab(server);
    try {
      await server.start();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** `host:port` for the store (etcd://<endpoint>). */
  get endpoint(): string {
    return `${this.host}:${this.clientPort}`;
  }

  get clientUrl(): string {
    return `${this.tls === null ? 'http' : 'https'}://${this.endpoint}`;
  }

  get pid(): number | null {
    return this.running ? (this.child?.pid ?? null) : null;
  }

  get running(): boolean {
    const pid = this.child?.pid;
    return pid !== undefined && isProcessRunning(pid, this.childStartTicks);
  }

  private wrap(argv: readonly string[]): [string, string[]] {
    if (this.netns === undefined) return [argv[0] ?? '', argv.slice(1)];
    return ['ip', ['netns', 'exec', this.netns, ...argv]];
  }

  private etcdArgv(): string[] {
    const peerUrl = `http://${this.host}:${this.peerPort}`;
    return [
      ETCD_BIN,
      '--name', 'ipfo-test',
      '--data-dir', this.dataDir,
      '--listen-client-urls', this.clientUrl,
      '--advertise-client-urls', this.clientUrl,
      '--listen-peer-urls', peerUrl,
      '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', `ipfo-test=${peerUrl}`,
      '--initial-cluster-state', 'new',
      '--logger', 'zap',
      '--log-outputs', 'stderr',
      '--log-level', 'error',
      ...(this.tls === null
        ? []
        : ['--cert-file', this.tls.cert, '--key-file', this.tls.key, ...(this.tls.clientCertAuth ? ['--client-cert-auth', '--trusted-ca-file', this.tls.ca] : [])]),
    ];
  }

  private ctlArgv(args: readonly string[], timeout = '2s'): string[] {
    const tls = this.tls === null ? [] : ['--cacert', this.tls.ca, ...(this.tls.ctlCert && this.tls.ctlKey ? ['--cert', this.tls.ctlCert, '--key', this.tls.ctlKey] : [])];
    const user = this.ctlUser === null ? [] : ['--user', this.ctlUser];
    return [ETCDCTL_BIN, '--endpoints', this.clientUrl, `--command-timeout=${timeout}`, `--dial-timeout=${timeout}`, ...tls, ...user, ...args];
  }

  /** etcdctl against this etcd (in its namespace, with its TLS files and the user of useCtlUser). */
  etcdctl(args: readonly string[]): Promise<CommandResult> {
    const [file, argv] = this.wrap(this.ctlArgv(args));
    return runCommand(file, argv);
  }

  /** etcdctl, failing the test with its output when it fails. */
  async etcdctlOk(args: readonly string[]): Promise<string> {
    const result = await this.etcdctl(args);
    if (result.code !== 0) throw new Error(`etcdctl ${args.join(' ')} exited ${String(result.code)}: ${result.stderr.trim()}`);
    return result.stdout;
  }

  /** The store's revision now: one more for every write (a put, a delete, a transaction that writes). */
  async revision(): Promise<number> {
    const status = JSON.parse(await this.etcdctlOk(['endpoint', 'status', '-w', 'json'])) as Array<{ Status?: { header?: { revision?: number } } }>;
    const revision = status[0]?.Status?.header?.revision;
    if (typeof revision !== 'number') throw new Error('etcdctl endpoint status: no revision in its answer');
    return revision;
  }

  /** The etcdctl user (`name:password`) from now on: for after `etcdctl auth enable`. */
  useCtlUser(user: string | null): void {
    this.ctlUser = user;
  }

  /** Starts etcd on the same data dir and ports (again, after stop()) and waits until healthy. */
  async start(): Promise<void> {
    if (this.destroyed) throw new Error(`${this.id} is destroyed`);
    if (this.running) return;
    const [file, args] = this.wrap(this.etcdArgv());
    this.stderrTail = '';
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-4000);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    this.childStartTicks = child.pid === undefined ? null : processStartTicks(child.pid);
    const deadline = Date.now() + this.startTimeoutMs;
    while (!(await this.healthy())) {
      if (!this.running) throw new Error(`etcd exited during start-up: ${this.stderrTail.trim()}`);
      if (Date.now() > deadline) throw new Error(`etcd not healthy after ${this.startTimeoutMs} ms: ${this.stderrTail.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
    }
  }

  /** True when `etcdctl endpoint health` succeeds (run in the same namespace as etcd). */
  async healthy(): Promise<boolean> {
    const [file, args] = this.wrap(this.ctlArgv(['endpoint', 'health'], '1s'));
    const result = await runCommand(file, args);
    return result.code === 0;
  }

  /** Stops etcd (SIGTERM, SIGKILL after a grace period); keeps the data dir for start(). */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child !== null) await stopChild(child, STOP_GRACE_MS);
  }

  /** SIGKILL: etcd dies as in a crash (for "etcd stopped and restarted"). */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.pid === undefined) return;
    if (isProcessRunning(child.pid, this.childStartTicks)) signalPid(child.pid, 'SIGKILL');
    await stopChild(child, 0);
  }

  /** SIGSTOP / SIGCONT: etcd hangs without closing its connections (an unreachable etcd). */
  freeze(): void {
    const pid = this.pid;
    if (pid !== null) signalPid(pid, 'SIGSTOP');
  }

  thaw(): void {
    const pid = this.pid;
    if (pid !== null) signalPid(pid, 'SIGCONT');
  }

  /** Stops etcd for good and removes its data dir. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.thaw();
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    unregisterLab(this);
  }

  /** Synchronous fallback for the process-exit hook. */
  destroySync(): void {
    this.destroyed = true;
    const pid = this.child?.pid;
    if (pid !== undefined && isProcessRunning(pid, this.childStartTicks)) {
      signalPid(pid, 'SIGCONT');
      signalPid(pid, 'SIGKILL');
      const deadline = Date.now() + 2000;
      while (isProcessRunning(pid, this.childStartTicks) && Date.now() < deadline) sleepSync(10);
    }
    this.child = null;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
