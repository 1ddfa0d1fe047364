// The soak's hold on the agents: every agent process it starts, which exits it caused itself (a
// kill fault, the final stop), and every other exit recorded as a crash — exit code or signal and
// the tail of the agent's stderr. A crashed agent is started again the way a service manager would,
// but only once the fault on its node (if any) has been undone, and never twice at once: one start
// per node at a time, so there are never two agents for one node (they would share its API port,
// its lease-deadline file and its addresses).
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabCluster } from '../lab/cluster';
import type { JsonLines } from '../lab/json-lines';
import type { AgentCrash } from './soak-report';

const START_ATTEMPTS = 4;
const RESTART_DELAY_MS = 1000;
const STDERR_TAIL = 1500;

export class AgentSupervisor {
  readonly crashes: AgentCrash[] = [];
  /** Every agent process of the soak, in start order (their logs are read at the end). */
  readonly started: Array<{ node: string; lines: JsonLines }> = [];
  private readonly expectedExits = new Set<JsonLines>();
  /** Nodes whose agent the soak keeps down on purpose (between kill and restart). */
  private readonly heldDown = new Set<string>();
  /** The node a fault is acting on: a crashed agent there is restarted after the fault is undone. */
  private faultedNode: string | null = null;
  private readonly starting = new Map<string, Promise<void>>();
  private readonly crashedNodes = new Set<string>();
  private stopping = false;

  constructor(private readonly cluster: LabCluster, private readonly note: (line: string) => void) {
    for (const node of cluster.nodes) this.watch(node, cluster.agent(node));
  }

  /** kill -9 of the node's agent, an exit the soak causes; it stays down until start(). */
  async kill(node: string): Promise<void> {
    this.heldDown.add(node);
    await this.starting.get(node)?.catch(() => undefined);
    this.expectedExits.add(this.cluster.agent(node));
    await this.cluster.killAgent(node);
  }

  /** Starts the node's agent unless one runs or is being started; waits until it listens. */
  start(node: string): Promise<void> {
    this.heldDown.delete(node);
    const pending = this.starting.get(node);
    if (pending !== undefined) return pending;
    const work = this.startAttempts(node).finally(() => this.starting.delete(node));
    this.starting.set(node, work);
    return work;
  }

  /** A fault acts on `node` from now until faultUndone(). */
  faultBegins(node: string | null): void {
    this.faultedNode = node;
  }

  /** The fault is undone: restart the agents that crashed meanwhile. */
  async faultUndone(): Promise<void> {
    this.faultedNode = null;
    await this.restartCrashed();
  }

  /** True while the node's current agent process runs (stopped with SIGSTOP counts as running). */
  running(node: string): boolean {
    const child = this.cluster.agents.get(node)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Restarts every crashed agent whose node no fault holds, and waits for the starts under way. */
  async restartCrashed(): Promise<void> {
    for (const node of [...this.crashedNodes]) {
      if (node === this.faultedNode || this.heldDown.has(node) || this.stopping) continue;
      this.crashedNodes.delete(node);
      await sleep(RESTART_DELAY_MS);
      await this.start(node).then(
        () => this.note(`agent on ${node} restarted after its crash`),
        (error: unknown) => this.note(`agent on ${node}: could not be restarted after its crash: ${firstLine(error)}`),
      );
    }
    await Promise.allSettled([...this.starting.values()]);
  }

  /** From now on every exit is the soak's own (final teardown). */
  stopWatching(): void {
    this.stopping = true;
    for (const { lines } of this.started) this.expectedExits.add(lines);
  }

  /**
   * Spawns the agent and waits until its API listens; an agent that exits first or does not listen
   * in time is killed (if still there) before the next attempt. Watched from the spawn on, so an
   * agent dying during its start counts as a crash too.
   */
  private async startAttempts(node: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.running(node)) return;
      const ready = this.cluster.startAgent(node);
      // startAgent has spawned and registered the process before its first await.
      const lines = this.cluster.agent(node);
      this.watch(node, lines);
      try {
        await Promise.race([ready, lines.exited.then(({ code, signal }) => Promise.reject(new Error(`agent on ${node} exited during its start (${String(code ?? signal)})`)))]);
        this.crashedNodes.delete(node);
        return;
      } catch (error) {
        this.expectedExits.add(lines);
        lines.child.kill('SIGKILL');
        await lines.exited;
        this.note(`agent on ${node}: start failed (attempt ${attempt}): ${firstLine(error)}`);
        if (attempt >= START_ATTEMPTS || this.stopping) throw error;
        await sleep(RESTART_DELAY_MS * attempt);
      }
    }
  }

  private watch(node: string, lines: JsonLines): void {
    this.started.push({ node, lines });
    void lines.exited.then(({ code, signal }) => {
      if (this.stopping || this.expectedExits.has(lines)) return;
      const crash: AgentCrash = { node, atWallMs: Date.now(), code, signal, stderrTail: lines.stderr.slice(-STDERR_TAIL) };
      this.crashes.push(crash);
      this.note(`CRASH: agent on ${node} exited ${code === null ? `on ${String(signal)}` : `with code ${code}`} without the soak causing it; stderr tail:\n${crash.stderrTail}`);
      // A start under way retries by itself; otherwise restart now, or once the fault on the node is undone.
      if (this.starting.has(node)) return;
      this.crashedNodes.add(node);
      if (node !== this.faultedNode) void this.restartCrashed();
    });
  }
}

function firstLine(error: unknown): string {
  return (String(error).split('\n')[0] ?? '').slice(0, 300);
}
