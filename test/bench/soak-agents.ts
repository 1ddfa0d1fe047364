// The soak's hold on the agents: every agent process it starts, which exits it caused itself (a
// kill fault, the final stop), and every other exit recorded as a crash — exit code or signal and
// the tail of the agent's stderr — after which the agent is started again (bounded retries), so
// that one crash does not end the soak and the faults after it still mean something.
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabCluster } from '../lab/cluster';
import type { JsonLines } from '../lab/json-lines';
import type { AgentCrash } from './soak-report';

const START_ATTEMPTS = 4;
const RESTART_BACKOFF_MS = 1000;
const STDERR_TAIL = 1500;

export class AgentSupervisor {
  readonly crashes: AgentCrash[] = [];
  /** Every agent process of the soak, in start order (their logs are read at the end). */
  readonly started: Array<{ node: string; lines: JsonLines }> = [];
  private readonly expectedExits = new Set<JsonLines>();
  /** Nodes whose agent the soak keeps down on purpose (between kill and restart). */
  private readonly heldDown = new Set<string>();
  private stopping = false;
  private readonly restarts = new Set<Promise<void>>();

  constructor(private readonly cluster: LabCluster, private readonly note: (line: string) => void) {
    for (const node of cluster.nodes) this.watch(node, cluster.agent(node));
  }

  /** kill -9 of the node's agent, an exit the soak causes; it stays down until start(). */
  async kill(node: string): Promise<void> {
    this.heldDown.add(node);
    this.expectedExits.add(this.cluster.agent(node));
    await this.cluster.killAgent(node);
  }

  /**
   * Starts the node's agent and waits until its API listens, retrying a few times. Watched from the
   * spawn on, so an agent dying during its start counts too; one that does not listen in time is
   * killed before the next attempt (never two agents for one node).
   */
  async start(node: string): Promise<void> {
    this.heldDown.delete(node);
    for (let attempt = 1; ; attempt++) {
      const ready = this.cluster.startAgent(node);
      // startAgent has spawned and registered the process before its first await.
      const lines = this.cluster.agent(node);
      this.watch(node, lines);
      try {
        await ready;
        return;
      } catch (error) {
        this.expectedExits.add(lines);
        lines.child.kill('SIGKILL');
        await lines.exited;
        this.note(`agent on ${node}: start failed (attempt ${attempt}): ${String(error).split('\n')[0]?.slice(0, 300) ?? ''}`);
        if (attempt >= START_ATTEMPTS || this.stopping) throw error;
        await sleep(RESTART_BACKOFF_MS * attempt);
      }
    }
  }

  /** True while the node's current agent process runs (stopped with SIGSTOP counts as running). */
  running(node: string): boolean {
    const child = this.cluster.agents.get(node)?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Waits for restarts after crashes still under way (bounded by their retries). */
  async settle(): Promise<void> {
    while (this.restarts.size > 0) await Promise.allSettled([...this.restarts]);
  }

  /** From now on every exit is the soak's own (final teardown). */
  stopWatching(): void {
    this.stopping = true;
    for (const { lines } of this.started) this.expectedExits.add(lines);
  }

  private watch(node: string, lines: JsonLines): void {
    this.started.push({ node, lines });
    void lines.exited.then(({ code, signal }) => {
      if (this.stopping || this.expectedExits.has(lines)) return;
      const crash: AgentCrash = { node, atWallMs: Date.now(), code, signal, stderrTail: lines.stderr.slice(-STDERR_TAIL) };
      this.crashes.push(crash);
      this.note(`CRASH: agent on ${node} exited ${code === null ? `on ${String(signal)}` : `with code ${code}`} without the soak causing it; stderr tail:\n${crash.stderrTail}`);
      if (!this.heldDown.has(node)) this.track(this.restartAfterCrash(node));
    });
  }

  private track(work: Promise<void>): void {
    this.restarts.add(work);
    void work.finally(() => this.restarts.delete(work));
  }

  private async restartAfterCrash(node: string): Promise<void> {
    if (this.stopping || this.heldDown.has(node) || this.running(node)) return;
    try {
      await this.start(node);
      this.note(`agent on ${node} restarted after its crash`);
    } catch (error) {
      this.note(`agent on ${node}: could not be restarted after its crash: ${String(error).split('\n')[0]?.slice(0, 300) ?? ''}`);
    }
  }
}
