// A lab cluster: etcd on a lab host, one `ipfo agent` per node (the real command, in the node's
// namespace), and helpers to drive it the way an operator or a script would — through the CLI or the
// agent API, both reached on the node namespace's loopback, where the agent listens by default.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, LabHost } from './lab';
import { EtcdServer, type EtcdTls } from './etcd';
import { JsonLines, type JsonRecord } from './json-lines';
import { ipfoArgv } from './ipfo';
import { DEFAULT_LEASE_TTL_SEC } from '../../main/agent/lease-deadline';
import type { CommandArgs, CommandType } from '../../preload/contract/protocol';

const API_CALL = join(__dirname, 'fixtures', 'api-call.js');
const API_FOLLOW = join(__dirname, 'fixtures', 'api-follow.js');
const API_PORT = 7790;

export interface LabClusterOptions {
  nodes?: string[];
  /** The lab host that runs etcd (a client namespace); null = the file store on a single node. */
  etcdHost?: string | null;
  leaseTtlSec?: number;
  /** The agents' --owner-silence-ms (default: the agent's own). */
  ownerSilenceMs?: number;
  /** etcd over TLS (the agents then need agentArgs such as --store-ca). */
  etcdTls?: EtcdTls;
  /** Run once etcd is up, before the agents start (users, roles, `auth enable`). */
  prepareEtcd?: (etcd: EtcdServer) => Promise<void>;
  /** More `ipfo agent` options for every agent (--store-ca, --store-user, ...), or per node (--metrics on its own address). */
  agentArgs?: readonly string[] | ((node: string) => readonly string[]);
  /** Runs each agent under `strace -f -qq -o <this file>` (the system calls it makes). */
  agentTrace?: (node: string) => string;
}

export class LabCluster {
  readonly agents = new Map<string, JsonLines>();
  private constructor(
    readonly lab: Lab,
    readonly nodes: string[],
    readonly etcd: EtcdServer | null,
    readonly dir: string,
    private readonly leaseTtlSec: number,
    private readonly ownerSilenceMs: number | null = null,
    private readonly agentArgs: readonly string[] | ((node: string) => readonly string[]) = [],
    private readonly agentTrace: ((node: string) => string) | null = null,
  ) {}

  static async start(lab: Lab, options: LabClusterOptions = {}): Promise<LabCluster> {
    const nodes = options.nodes ?? lab.nodes.map((n) => n.name);
    const dir = mkdtempSync(join(tmpdir(), `ipfo-cluster-${lab.id}-`));
    let etcd: EtcdServer | null = null;
    const etcdHost = options.etcdHost === undefined ? 'c2' : options.etcdHost;
    try {
      if (etcdHost !== null) {
        const host = lab.host(etcdHost);
        etcd = await EtcdServer.launch({ host: host.ip, netns: host.ns, clientPort: 2379, peerPort: 2380, ...(options.etcdTls === undefined ? {} : { tls: options.etcdTls }) });
        await options.prepareEtcd?.(etcd);
      }
      const cluster = new LabCluster(lab, nodes, etcd, dir, options.leaseTtlSec ?? DEFAULT_LEASE_TTL_SEC, options.ownerSilenceMs ?? null, options.agentArgs ?? [], options.agentTrace ?? null);
      await Promise.all(nodes.map((node) => cluster.startAgent(node)));
      return cluster;
    } catch (error) {
      await etcd?.destroy();
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get store(): string {
    return this.etcd ? `etcd://${this.etcd.endpoint}` : `file:${join(this.dir, 'store')}`;
  }

  tokenFile(node: string): string {
    return join(this.dir, `${node}.token`);
  }

  /**
   * Starts (or restarts) the agent of `node` and waits until its API listens. `prefix`: a command the
   * agent runs under (`setpriv --bounding-set=-net_admin`: an agent the kernel refuses addresses to).
   */
  async startAgent(node: string, prefix: readonly string[] = []): Promise<JsonLines> {
    const argv = ipfoArgv(['agent', '--node', node, '--store', this.store, '--token-file', this.tokenFile(node), '--state-dir', join(this.dir, 'state'), '--api-socket', join(this.dir, 'api', `${node}.sock`), '--lease-ttl', String(this.leaseTtlSec), ...(this.ownerSilenceMs === null ? [] : ['--owner-silence-ms', String(this.ownerSilenceMs)]), ...(typeof this.agentArgs === 'function' ? this.agentArgs(node) : this.agentArgs), '--json']);
    const stdio: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];
    const child = this.agentTrace === null ? this.lab.spawn(node, [...prefix, ...argv], { stdio }) : this.lab.spawn(node, ['strace', '-f', '-qq', '-o', this.agentTrace(node), ...prefix, ...argv], { stdio });
    const agent = new JsonLines(child);
    this.agents.set(node, agent);
    await agent.waitFor((r) => r.event === 'listening', 20_000, `agent ${node} listening`);
    return agent;
  }

  /**
   * Polls `probe` every 50 ms until it holds; returns how long that took. On a timeout the assertion says
   * what was waited for, the cluster's status and each agent's last log lines.
   */
  async until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      if (await probe()) return Date.now() - started;
      if (Date.now() - started > timeoutMs) {
        const logs = this.nodes.map((node) => `${node}:\n  ${(this.agents.get(node)?.records ?? []).slice(-25).map((r) => JSON.stringify(r)).join('\n  ')}`).join('\n');
        throw new Error(`${what}: not within ${timeoutMs} ms; status ${JSON.stringify(await this.status(this.nodes.at(-1)!))}\n${logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  agent(node: string): JsonLines {
    const agent = this.agents.get(node);
    if (!agent) throw new Error(`no agent on ${node}`);
    return agent;
  }

  /** Sends a signal to the agent process of `node` (its own PID: `ip netns exec` execs it). */
  signal(node: string, signal: NodeJS.Signals): void {
    this.agent(node).child.kill(signal);
  }

  /** Graceful stop (SIGTERM: hands its addresses over) and the exit code. */
  async stopAgent(node: string): Promise<number | null> {
    const agent = this.agent(node);
    agent.child.kill('SIGTERM');
    return (await agent.exited).code;
  }

  async killAgent(node: string): Promise<void> {
    const agent = this.agent(node);
    agent.child.kill('SIGKILL');
    await agent.exited;
  }

  /** One agent command on `node`, by its protocol name (through the real client, in the node's namespace). */
  async api<T extends CommandType>(node: string, type: T, args: CommandArgs[T]): Promise<{ ok: boolean; result?: unknown; code?: string; message?: string }> {
    const run = await this.lab.run(node, [process.execPath, API_CALL, String(API_PORT), this.tokenFile(node), type, JSON.stringify(args)], { timeoutMs: 60_000 });
    const line = run.stdout.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(line) as { ok: boolean; result?: unknown };
    } catch {
      throw new Error(`api ${type} on ${node}: no answer (${run.code}): ${run.stdout} ${run.stderr}`);
    }
  }

  /** The `ipfo` CLI on `node`, reaching the local agent with its token. */
  cli(node: string, args: readonly string[], timeoutMs = 60_000) {
    return this.lab.run(node, ipfoArgv([...args, '--agent', `127.0.0.1:${API_PORT}`, '--token-file', this.tokenFile(node)]), { timeoutMs });
  }

  /** `ipfo events --follow --json` on `node`: every audit entry from now on, as JSON lines. */
  followEvents(node: string): JsonLines {
    const argv = ipfoArgv(['events', '--follow', '--json', '--limit', '0', '--agent', `127.0.0.1:${API_PORT}`, '--token-file', this.tokenFile(node)]);
    return new JsonLines(this.lab.spawn(node, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** A console's stream on `node`'s agent: one JSON line per snapshot pushed (api-follow.ts). */
  followSnapshots(node: string): JsonLines {
    return new JsonLines(this.lab.spawn(node, [process.execPath, API_FOLLOW, String(API_PORT), this.tokenFile(node)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  }

  /** `ipfo status --json` on `node`. */
  async status(node: string): Promise<{ nodes: JsonRecord[]; resources: JsonRecord[] }> {
    const run = await this.cli(node, ['status', '--json']);
    if (run.code !== 0) throw new Error(`ipfo status on ${node} exited ${run.code}: ${run.stderr}`);
    return JSON.parse(run.stdout) as { nodes: JsonRecord[]; resources: JsonRecord[] };
  }

  /** Waits until `resource` is online on `node` according to the agent API of `via`. */
  async waitOwner(via: string, resource: string, node: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    while (Date.now() < deadline) {
      const snap = await this.api(via, 'snapshot', {});
      const view = (snap.result as { snapshot: { resources: Array<{ name: string; status: { state: string; owner: string | null } }> } } | undefined)?.snapshot.resources.find((r) => r.name === resource);
      last = view?.status;
      if (view?.status.state === 'online' && view.status.owner === node) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${resource} not online on ${node} within ${timeoutMs} ms (last status ${JSON.stringify(last)})`);
  }

  host(node: string): LabHost {
    return this.lab.host(node);
  }

  async destroy(): Promise<void> {
    for (const agent of this.agents.values()) if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
    await Promise.all([...this.agents.values()].map((a) => a.exited));
    await this.etcd?.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
