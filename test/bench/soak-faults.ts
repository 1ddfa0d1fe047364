// The chaos soak's faults, as effects on a lab cluster: inject, hold, undo. Every fault is undone
// in a finally block (the link comes back up, the process continues, the route goes, the node
// resumes), so a failed step never leaves the cluster crippled for the faults after it. Kills go
// by PID only (the agent's own, etcd's, the hogs'), all of them processes this soak started.
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../lab/lab';
import type { LabCluster } from '../lab/cluster';
import { ApiSession } from './api-session';
import type { AgentSupervisor } from './soak-agents';
import type { FaultRun } from './soak-report';
import type { Fault } from './soak-schedule';
import { seededRandom } from '../seeded-random';

export interface SoakContext {
  lab: Lab;
  cluster: LabCluster;
  agents: AgentSupervisor;
  /** The lab host the CPU hogs run in (the CPU is the machine's, whatever the namespace). */
  hogHost: string;
  note: (line: string) => void;
}

/** A busy loop for the given ms (argv[1]); constant source, the duration comes as an argument. */
const HOG_SOURCE = 'const end = Date.now() + Number(process.argv[1]); let x = 0; while (Date.now() < end) x++;';
const ETCD_START_ATTEMPTS = 3;
const API_TIMEOUT_MS = 30_000;

interface ResourceRow {
  name: string;
  state: string;
  owner: string | null;
}

/** A node whose agent runs, other than `except` (API calls go there). */
function apiNode(ctx: SoakContext, except: string | null): string {
  const node = ctx.cluster.nodes.find((n) => n !== except && ctx.agents.running(n));
  if (node === undefined) throw new Error(`no running agent to talk to (except ${String(except)})`);
  return node;
}

async function withSession<T>(ctx: SoakContext, via: string, work: (api: ApiSession) => Promise<T>): Promise<T> {
  const api = await ApiSession.open(ctx.cluster, via);
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`API work on ${via} took over ${API_TIMEOUT_MS} ms`)), API_TIMEOUT_MS);
    });
    try {
      return await Promise.race([work(api), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await api.close();
  }
}

/** `ip <args>` inside the node's namespace (the program named here, where the external-programs check reads it). */
async function ipOnNode(ctx: SoakContext, node: string, args: readonly string[]): Promise<void> {
  const run = await ctx.lab.run(node, ['ip', ...args], { timeoutMs: 10_000 });
  if (run.code !== 0) throw new Error(`ip ${args.join(' ')} on ${node} exited ${String(run.code ?? run.signal)}: ${run.stderr.trim()}`);
}

/** Runs `inject`, holds, and always runs `undo` (its own error wins only if inject succeeded). */
async function holdFault(fault: Fault, inject: () => Promise<void>, undo: () => Promise<void>): Promise<void> {
  let injected = false;
  try {
    await inject();
    injected = true;
    await sleep(fault.holdMs);
  } finally {
    // Undo even after a failed inject: the fault may have half happened.
    await undo().catch((error: unknown) => {
      if (injected) throw error;
    });
  }
}

async function moveSome(ctx: SoakContext, fault: Fault): Promise<string> {
  const random = seededRandom(fault.pickSeed);
  const via = apiNode(ctx, null);
  return withSession(ctx, via, async (api) => {
    const snap = await api.must('snapshot', {});
    const rows = (snap.result as { snapshot: { resources: Array<{ name: string; status: { state: string; owner: string | null } }> } }).snapshot.resources
      .map((r): ResourceRow => ({ name: r.name, state: r.status.state, owner: r.status.owner }))
      .filter((r) => r.state === 'online' && r.owner !== null);
    const picked: Array<{ name: string; target: string }> = [];
    for (let i = 0; i < fault.count && rows.length > 0; i++) {
      const [row] = rows.splice(Math.floor(random() * rows.length), 1);
      const others = ctx.cluster.nodes.filter((n) => n !== row!.owner);
      picked.push({ name: row!.name, target: others[Math.floor(random() * others.length)]! });
    }
    const results = await Promise.all(picked.map(async ({ name, target }) => {
      const moved = await api.call('resource.move', { name, target });
      const outcome = moved.ok ? (moved.result as { outcome?: string }).outcome ?? 'ok' : `error ${moved.code ?? ''}`;
      return `${name}->${target} ${outcome}`;
    }));
    return `via ${via}: ${results.join(', ')}`;
  });
}

async function cpuHog(ctx: SoakContext, fault: Fault): Promise<string> {
  const count = cpus().length;
  const hogs = Array.from({ length: count }, () => ctx.lab.spawn(ctx.hogHost, [process.execPath, '-e', HOG_SOURCE, String(fault.holdMs)], { stdio: 'ignore' }));
  const exited = Promise.all(hogs.map((hog) => new Promise((resolve) => hog.once('close', resolve))));
  const bound = sleep(fault.holdMs + 5000).then(() => 'late');
  if ((await Promise.race([exited, bound])) === 'late') await Promise.all(hogs.map((hog) => ctx.lab.stop(hog, 500)));
  return `${count} busy processes for ${fault.holdMs} ms`;
}

async function etcdStart(ctx: SoakContext): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ctx.cluster.etcd!.start();
      return;
    } catch (error) {
      if (attempt >= ETCD_START_ATTEMPTS) throw error;
      ctx.note(`etcd start failed (attempt ${attempt}): ${String(error).split('\n')[0]}`);
    }
  }
}

/** Carries out one fault and undoes it; returns what happened, with wall-clock times. */
export async function runFault(ctx: SoakContext, fault: Fault): Promise<FaultRun> {
  const node = fault.node;
  const startWallMs = Date.now();
  let detail = `hold ${fault.holdMs} ms`;
  const { lab, cluster } = ctx;
  ctx.agents.faultBegins(node);
  try {
    switch (fault.kind) {
      case 'kill':
        await holdFault(fault, () => ctx.agents.kill(node!), () => ctx.agents.start(node!));
        break;
      case 'stop':
        await holdFault(fault, () => Promise.resolve(cluster.signal(node!, 'SIGSTOP')), () => Promise.resolve(cluster.signal(node!, 'SIGCONT')));
        break;
      case 'admin-down':
        await holdFault(fault, () => ipOnNode(ctx, node!, ['link', 'set', 'dev', 'lan0', 'down']), () => ipOnNode(ctx, node!, ['link', 'set', 'dev', 'lan0', 'up']));
        break;
      case 'carrier':
        await holdFault(fault, () => lab.setLinkUp(node!, false), () => lab.setLinkUp(node!, true));
        break;
      case 'etcd-restart':
        await holdFault(fault, () => cluster.etcd!.kill(), () => etcdStart(ctx));
        break;
      case 'etcd-cut': {
        const route = ['blackhole', `${cluster.etcd!.host}/32`];
        await holdFault(fault, () => ipOnNode(ctx, node!, ['route', 'add', ...route]), () => ipOnNode(ctx, node!, ['route', 'del', ...route]));
        break;
      }
      case 'move':
        detail = await moveSome(ctx, fault);
        break;
      case 'drain': {
        const via = apiNode(ctx, node);
        await holdFault(
          fault,
          () => withSession(ctx, via, async (api) => void (await api.must('node.pause', { name: node! }))),
          () => withSession(ctx, apiNode(ctx, node), async (api) => void (await api.must('node.resume', { name: node! }))),
        );
        break;
      }
      case 'cpu-hog':
        detail = await cpuHog(ctx, fault);
        break;
    }
    const endWallMs = Date.now();
    await ctx.agents.faultUndone();
    return { index: fault.index, kind: fault.kind, node, startWallMs, endWallMs, detail };
  } catch (error) {
    const endWallMs = Date.now();
    await ctx.agents.faultUndone();
    return { index: fault.index, kind: fault.kind, node, startWallMs, endWallMs, detail, error: String(error).split('\n')[0]?.slice(0, 300) ?? '' };
  }
}
