// Issue 10, part 3: long store outages. etcd away for longer than the lease fences every owner (and a
// node cut from etcd fences itself); when the store is back, every resource must be online again on
// exactly one node within a few seconds, none `failed`, and the witnesses on the client must never see
// two MACs answer for one address. Nine resources over three nodes, so that recoveries overlap.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { startMacWitness, type RunningWitness } from './witness';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const NODES = ['n1', 'n2', 'n3'];
const RESOURCES = 9;
/** How long after the store is back every resource must be online on exactly one node. */
const RECOVERY_BOUND_MS = 10_000;

interface ResourceState {
  name: string;
  ip: string;
  state: string;
  owner: string | null;
  failure: unknown;
}

describe('long store outages end with every resource online', () => {
  let lab: Lab;
  let cluster: LabCluster;
  let witnesses: RunningWitness[] = [];
  const names = Array.from({ length: RESOURCES }, (_, i) => `o${i + 1}`);

  before(async () => {
    lab = await createLab({ nodes: 3, clients: 2, rogue: false, name: 'cluster-outage' });
  });
  after(async () => {
    await lab?.destroy();
  });

  /** Each test: a fresh cluster (a fresh etcd) with the nine resources online, a witness on each address. */
  beforeEach(async () => {
    cluster = await LabCluster.start(lab, { etcdHost: 'c2' });
    // Three per node: each node's preferred list starts with a different node.
    for (const [i, name] of names.entries()) {
      const preferred = [NODES[i % 3]!, NODES[(i + 1) % 3]!, NODES[(i + 2) % 3]!];
      const added = await cluster.api('n1', 'resource.add', { spec: { name, ip: `${lab.vip(i + 1)}/24`, preferredOwners: preferred } });
      assert.equal(added.ok, true, JSON.stringify(added));
    }
    await waitAllOnline(20_000);
    witnesses = [];
    for (const [i] of names.entries()) witnesses.push(await startMacWitness(lab, 'c1', lab.vip(i + 1)));
  });
  afterEach(async () => {
    await Promise.all(witnesses.map((w) => w.stop().catch(() => undefined)));
    witnesses = [];
    await cluster?.destroy();
  });

  function agentLogs(tail = 60): string {
    return NODES.map((n) => `${n}:\n  ${cluster.agent(n).records.filter((r) => r.event === 'log').slice(-tail).map((r) => `${String(r.time)} ${String(r.message)}`).join('\n  ')}`).join('\n');
  }

  /** What a failure report needs: who is who on the wire, the audit log's recent entries, the agents' logs. */
  async function evidence(via: string): Promise<string> {
    const macs = NODES.map((n) => `${n}=${cluster.host(n).mac}`).join(' ');
    const events = await cluster.api(via, 'events.query', { limit: 300 }).catch(() => null);
    const recent = ((events?.result as { entries: Array<Record<string, unknown>> } | undefined)?.entries ?? []).filter((e) => !String(e.action).startsWith('arp.')).slice(-40);
    return `node MACs: ${macs}\naudit (latest):\n  ${recent.map((e) => `${new Date(Number(e.at)).toISOString()} ${String(e.actor)} ${String(e.action)} ${String(e.target)} ${String(e.outcome)} ${String(e.detail)}`).join('\n  ')}\nagent logs:\n${agentLogs()}`;
  }

  async function resourceStates(via: string): Promise<ResourceState[]> {
    const snap = await cluster.api(via, 'snapshot', {});
    const resources = (snap.result as { snapshot: { resources: Array<{ name: string; ip: string; status: { state: string; owner: string | null; failure: unknown } }> } } | undefined)?.snapshot.resources ?? [];
    return resources.map((r) => ({ name: r.name, ip: r.ip, state: r.status.state, owner: r.status.owner, failure: r.status.failure }));
  }

  /** Which nodes have each virtual address registered right now (the kernel's word, not the store's). */
  async function holders(): Promise<Map<string, string[]>> {
    const vips = new Set(names.map((_, i) => lab.vip(i + 1)));
    const byIp = new Map<string, string[]>();
    for (const node of NODES) {
      for (const address of await lab.addresses(node)) {
        const ip = address.split('/')[0]!;
        if (vips.has(ip)) byIp.set(ip, [...(byIp.get(ip) ?? []), node]);
      }
    }
    return byIp;
  }

  /**
   * Waits until every resource is online, its status names one node, and exactly that node has the
   * address registered (`among`: the nodes allowed to hold it). Fails at once on a `failed` resource.
   * Returns the time it took.
   */
  async function waitAllOnline(timeoutMs: number, among: readonly string[] = NODES, via = 'n2'): Promise<number> {
    const started = Date.now();
    let last = '';
    while (Date.now() - started < timeoutMs) {
      const states = await resourceStates(via).catch(() => [] as ResourceState[]);
      const failed = states.filter((s) => s.state === 'failed');
      if (failed.length > 0) {
        assert.fail(`resource(s) failed: ${JSON.stringify(failed)}\n${await evidence(via)}`);
      }
      const held = await holders();
      const wrong = names.filter((name) => {
        const s = states.find((x) => x.name === name);
        if (!s || s.state !== 'online' || s.owner === null || !among.includes(s.owner)) return true;
        const on = held.get(s.ip) ?? [];
        return on.length !== 1 || on[0] !== s.owner;
      });
      if (states.length === RESOURCES && wrong.length === 0) return Date.now() - started;
      last = JSON.stringify(states.filter((s) => wrong.includes(s.name)).map((s) => ({ ...s, registeredOn: held.get(s.ip) ?? [] })));
      await sleep(100);
    }
    throw new Error(`not every resource online on exactly one of ${among.join(', ')} within ${timeoutMs} ms: ${last}\n${await evidence(via)}`);
  }

  async function expectNoOverlap(): Promise<void> {
    const reports = await Promise.all(witnesses.map((w) => w.stop()));
    witnesses = [];
    const overlaps = reports.flatMap((report, i) => report.overlaps.map((o) => ({ ip: lab.vip(i + 1), ...o })));
    assert.deepEqual(overlaps, [], `two MACs answered at once: ${JSON.stringify(overlaps)}\n${overlaps.length > 0 ? await evidence('n2') : ''}`);
    // The witnesses really watched: every address was answered, before or after the outage.
    for (const [i, report] of reports.entries()) assert.ok(report.answerCount > 0, `the witness of ${lab.vip(i + 1)} heard answers`);
  }

  async function etcdOutage(awayMs: number): Promise<void> {
    await cluster.etcd!.stop();
    await sleep(awayMs);
    await cluster.etcd!.start();
    const recoveryMs = await waitAllOnline(RECOVERY_BOUND_MS);
    process.stdout.write(`# etcd away ${awayMs} ms: every resource online on exactly one node ${recoveryMs} ms after etcd was healthy again\n`);
    await expectNoOverlap();
  }

  test('etcd down for 5 s, then back: every resource online on exactly one node, none failed; consoles start over', async () => {
    // A console on n2: the agent rejoins and replaces its view after the outage, and the console must be
    // told (a 'reset', pushed as a fresh snapshot) instead of keeping the picture from before.
    const stream = cluster.followSnapshots('n2');
    try {
      await stream.waitForEvent('snapshot', 10_000);
      const outageStarted = Date.now();
      await etcdOutage(5000);
      const fresh = await stream.waitFor((r) => r.event === 'snapshot' && stream.readTimeOf(r) > outageStarted, 5000, 'a snapshot pushed after the outage (the reset)');
      assert.equal((fresh.resources as unknown[]).length, RESOURCES);
    } finally {
      stream.child.kill('SIGTERM');
      await stream.exited;
    }
  });

  test('etcd down for 20 s, then back: every resource online on exactly one node, none failed', async () => {
    await etcdOutage(20_000);
  });

  test('one node cut from etcd (not from the LAN) for 20 s: its addresses move, it rejoins without a duplicate', async () => {
    const etcdIp = cluster.etcd!.host;
    await lab.run('n1', ['ip', 'route', 'add', 'blackhole', `${etcdIp}/32`]);
    try {
      // While cut off, n1 serves nothing and the others serve everything.
      const movedMs = await waitAllOnline(RECOVERY_BOUND_MS, ['n2', 'n3']);
      process.stdout.write(`# n1 cut from etcd: every resource online on n2/n3 after ${movedMs} ms\n`);
      await sleep(Math.max(0, 20_000 - movedMs));
      assert.deepEqual([...(await holders()).entries()].filter(([, on]) => on.includes('n1')), [], 'n1 holds nothing while cut off');
    } finally {
      await lab.run('n1', ['ip', 'route', 'del', 'blackhole', `${etcdIp}/32`]);
    }
    const rejoinedMark = Date.now();
    // Back: n1 rejoins (its log says so), and the cluster is whole, with no duplicate.
    const n1 = cluster.agent('n1');
    await n1.waitFor((r) => r.event === 'log' && /joined as n1/.test(String(r.message)) && n1.readAt[n1.records.indexOf(r)]! >= rejoinedMark, RECOVERY_BOUND_MS, 'n1 rejoining');
    const rejoinMs = Date.now() - rejoinedMark;
    const recoveryMs = await waitAllOnline(RECOVERY_BOUND_MS);
    process.stdout.write(`# n1 back: rejoined ${rejoinMs} ms after the route returned; every resource online on exactly one node ${recoveryMs} ms later\n`);
    await expectNoOverlap();
  });
});
