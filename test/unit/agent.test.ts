// The node agent without root: real agents (main/agent/agent.ts) on a fake LAN of fake hosts
// (fake-host.ts: addresses, interfaces and ARP as the agent sees them through main/host/host.ts) and
// a real embedded store in a temporary directory. The lab (test/lab/cluster-*.test.ts) runs the same
// scenarios on kernels in network namespaces; these catch a broken handoff in seconds, without either.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { Agent } from '../../main/agent/agent';
import { AgentApiHandler } from '../../main/agent/api-handler';
import { encodeReleasedNotice, HandoffIdentity } from '../../main/agent/handoff-channel';
import type { ResourceSpec } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import { FileStore } from '../../main/store/file-store';
import type { ClusterStore } from '../../main/store/store';
import { FakeLan, type FakeHost } from './fake-host';
import { registrationsWhileHeld as registrationsHeldOn, sleep, startAgents, stopAgents, until } from './agent-fixture';

const VIP = '10.231.0.100';

/** The store as seen by a node that hears of changes late (in order, each `delay()` ms after it happened). */
function lateWatch(store: ClusterStore, delay: () => number): ClusterStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property !== 'watch') {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      const watch: ClusterStore['watch'] = (afterRevision, onChange, onReset) =>
        target.watch(afterRevision, (change) => {
          const ms = delay();
          if (ms === 0) onChange(change);
          else setTimeout(() => onChange(change), ms);
        }, onReset);
      return watch;
    },
  });
}

/** A resource as the API would store it: validated, with every default filled in. */
function spec(name: string, ip: string, preferredOwners: string[]): ResourceSpec {
  const validation = validateResourceSpec({ name, ip: `${ip}/24`, preferredOwners }, { nodes: ['n1', 'n2'], existing: [] });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.spec;
}

describe('the agent on fake hosts', () => {
  const dirs: string[] = [];
  let lan: FakeLan;
  let stores: ClusterStore[];
  let agents: Agent[];
  let hosts: Record<string, FakeHost>;
  let logs: string[];
  /** How late n1 hears of the store's changes (a busy owner): its watch deliveries wait this long. */
  let n1WatchDelayMs = 0;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-agent-unit-'));
    dirs.push(dir);
    lan = new FakeLan();
    hosts = { n1: lan.host('n1', '10.231.0.1', '02:77:00:00:00:01'), n2: lan.host('n2', '10.231.0.2', '02:77:00:00:00:02') };
    n1WatchDelayMs = 0;
    ({ stores, agents, logs } = await startAgents(dir, hosts, (node, store) => (node === 'n1' ? lateWatch(store, () => n1WatchDelayMs) : store)));
  });

  afterEach(() => stopAgents({ stores, agents, logs }));

  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const agent = (node: string): Agent => agents[['n1', 'n2'].indexOf(node)]!;
  const ownerOf = (resource: string): string | null => agent('n1').clusterView.ownerOf(resource);
  const stateOf = (resource: string): string | undefined => agent('n1').clusterView.statuses.get(resource)?.state;
  const explain = (): string => `\nlog:\n  ${logs.slice(-30).join('\n  ')}`;

  const registrationsWhileHeld = (target: string, owner: string): string[] => registrationsHeldOn(hosts, target, owner);

  /** A resource put in the store, online on its preferred node, with the address in that host's "kernel". */
  async function online(name: string, ip: string, node: string): Promise<void> {
    await stores[0]!.putResource(spec(name, ip, [node]));
    await until(`${name} online on ${node}`, () => stateOf(name) === 'online' && ownerOf(name) === node && hosts[node]!.held().includes(ip)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
  }

  test('a resource comes online on exactly one node: probed, registered, announced', async () => {
    await online('web', VIP, 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP]);
    assert.deepEqual(hosts.n2!.held(), []);
    assert.ok(hosts.n1!.prepared.has('lan0'));
    // On the wire: n1 probed (sender 0.0.0.0) before it announced (sender = target = the address).
    const fromN1 = lan.wire.filter((w) => w.from === 'n1' && w.frame.arp.targetIp === VIP).map((w) => w.frame.arp);
    const firstAnnouncement = fromN1.findIndex((arp) => arp.senderIp === VIP);
    assert.ok(firstAnnouncement > 0, JSON.stringify(fromN1));
    assert.ok(fromN1.slice(0, firstAnnouncement).every((arp) => arp.senderIp === '0.0.0.0'));
  });

  test('a planned move hands the address over: never held by both hosts at once, even with a slow owner', async () => {
    await online('web', VIP, 'n1');
    // The owner hears of "prepared" 150 ms late: a target that did not wait for "released" would register meanwhile.
    n1WatchDelayMs = 150;
    // The invariant at every registration on the target: the owner has let go already.
    const violations = registrationsWhileHeld('n2', 'n1');
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && agent('n1').clusterView.intents.size === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(violations, []);
    // The owner told the target by datagram (the store's "released" came after it).
    assert.equal(lan.datagrams.sent, 1);
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), [VIP]);
    const moves = (await stores[0]!.audit()).filter((e) => e.action === 'move');
    assert.equal(moves.at(-1)?.outcome, 'ok', JSON.stringify(moves));
    assert.equal(moves.at(-1)?.detail, 'n1 -> n2');
    assert.equal(typeof moves.at(-1)?.handoffMs, 'number');
  });

  test('health checks: the address goes where the service runs, leaves a node whose service died, and comes back when it is up again', async () => {
    const health = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 8080 }], intervalMs: 100, timeoutMs: 50, fall: 2, rise: 2 };
    const service = 'tcp:127.0.0.1:8080';
    hosts.n2!.services.add(service);
    // Preferred n1, but only n2 runs the service: placement gives it to n2.
    await stores[0]!.putResource({ ...spec('web', VIP, ['n1']), failback: { mode: 'immediate' }, health });
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // The service starts on n1: after rise passes there, failback brings the address to the preferred node.
    hosts.n1!.services.add(service);
    await until('web back on n1', () => stateOf('web') === 'online' && ownerOf('web') === 'n1' && hosts.n1!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // It dies on n1: a planned move to n2 (never two holders), after `fall` failed runs.
    const violations = registrationsWhileHeld('n2', 'n1');
    hosts.n1!.services.delete(service);
    await until('web moved to n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP) && hosts.n1!.held().length === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(violations, []);
    // The audit: the check failed on n1, then the move (its entry is written once the move ended).
    const audit = await until('the move audited', async () => {
      const entries = await stores[0]!.audit();
      const failed = entries.findLastIndex((e) => e.action === 'check.failed' && e.target === 'web' && e.detail?.startsWith('on n1:') === true);
      return failed >= 0 && entries.some((e, i) => i > failed && e.action === 'move' && e.outcome === 'ok' && e.detail === 'n1 -> n2') && entries;
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify((await stores[0]!.audit()).map((e) => [e.action, e.detail]))}`);
    });
    assert.ok(audit.length > 0);
    // Nowhere healthy: nothing moves, and the owner says why once.
    hosts.n2!.services.delete(service);
    await until('the owner says it stays', async () => (await stores[0]!.audit()).some((e) => e.action === 'check.no-healthy-node' && e.target === 'web')).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await sleep(400);
    assert.equal(ownerOf('web'), 'n2');
    assert.deepEqual(hosts.n2!.held(), [VIP]);
    assert.equal((await stores[0]!.audit()).filter((e) => e.action === 'check.no-healthy-node').length, 1);
    // Each node ran the one profile, not once per resource, at about its interval.
    assert.ok(hosts.n1!.checksRun.length > 5 && hosts.n1!.checksRun.every((name) => name === service));
  });

  /** Makes `node`'s kernel refuse VIP as the capability check of RTM_NEWADDR does; returns the undo. */
  function refuseRegistration(node: string, ips: readonly string[] = [VIP]): () => void {
    const addresses = hosts[node]!.addresses;
    const register = addresses.register.bind(addresses);
    (addresses as { register: typeof register }).register = (list, notAfter) =>
      list.some((item) => ips.includes(item.ip)) ? list.map((address) => (ips.includes(address.ip) ? { address, ok: false as const, code: 'EPERM', message: 'Operation not permitted' } : register([address], notAfter)[0]!)) : register(list, notAfter);
    return () => {
      (addresses as { register: typeof register }).register = register;
    };
  }

  test('failure policy: a node that cannot register the address tries again, is banned, and the other node takes it; cleanup lifts the ban', async () => {
    const undo = refuseRegistration('n1');
    const started = Date.now();
    await stores[0]!.putResource({ ...spec('web', VIP, ['n1']), failback: { mode: 'immediate' } });
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP), 6000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // One retry (the default) a second after the first failure, then the ban: never failed cluster-wide.
    assert.ok(Date.now() - started >= 1000, 'the retry waited its second');
    const audit = (await stores[0]!.audit()).filter((e) => e.target === 'web').map((e) => e.action);
    assert.deepEqual(audit.filter((a) => a === 'resource.retry' || a === 'resource.banned' || a === 'fail'), ['resource.retry', 'resource.banned']);
    const n1Health = agent('n2').clusterView.health.get('n1');
    assert.equal(n1Health?.bans?.[0]?.resource, 'web');
    assert.match(n1Health?.bans?.[0]?.reason ?? '', /could not register on n1: .*Operation not permitted/);
    assert.ok((n1Health?.bans?.[0]?.until ?? 0) - (n1Health?.bans?.[0]?.since ?? 0) === 600_000, 'banned for the default 10 minutes');
    assert.deepEqual(n1Health?.failovers?.map((m) => m.resource), ['web']);
    // Failback immediate, but n1 is banned: the address stays on n2.
    undo();
    await sleep(300);
    assert.equal(ownerOf('web'), 'n2');
    // A move to the banned node is refused with the ban's reason and how to lift it.
    const handler = new AgentApiHandler(agent('n2'), stores[1]!);
    const refused = await handler.execute({ type: 'resource.move', name: 'web', target: 'n1' }, 'unit-test');
    assert.equal(refused.ok, false);
    assert.match(JSON.stringify(refused), /n1 is banned from web after failures there \(could not register on n1: .*\); ipfo resource cleanup web --node n1 lifts the ban/);
    // The operator cleans up on n1 only: the ban goes and failback brings the address home.
    const cleaned = await handler.execute({ type: 'resource.cleanup', name: 'web', node: 'n1' }, 'unit-test');
    assert.ok(cleaned.ok, JSON.stringify(cleaned));
    assert.match(JSON.stringify(cleaned), /n1: ban lifted, 1 failover mark dropped/);
    await until('web back on n1', () => stateOf('web') === 'online' && ownerOf('web') === 'n1' && hosts.n1!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.equal(agent('n2').clusterView.health.get('n1')?.bans, undefined);
  });

  test('failure policy: a failback to a node that cannot register fails; after the retries the node is banned and failback asks it no more', async () => {
    await stores[0]!.putResource({ ...spec('web', VIP, ['n1']), failback: { mode: 'immediate' } });
    await until('web online on n1', () => stateOf('web') === 'online' && ownerOf('web') === 'n1');
    await stores[0]!.setNodeState('n1', 'paused');
    await until('web drained to n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    refuseRegistration('n1');
    await stores[0]!.setNodeState('n1', 'up');
    await until('n1 banned', async () => (await stores[0]!.audit()).some((e) => e.action === 'resource.banned' && e.target === 'web'), 8000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // One retry (the default): the failed failback, then n1's own claim of the address it let go; then the ban.
    await until('web online on n2 again', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP));
    const failures = async (): Promise<string[]> => (await stores[0]!.audit()).filter((e) => (e.action === 'move' && e.outcome === 'failed') || e.action === 'resource.banned' || e.action === 'resource.retry').map((e) => e.action);
    const seen = await failures();
    assert.ok(seen.length >= 2 && seen.at(-1) === 'resource.banned', JSON.stringify(seen));
    assert.match(JSON.stringify((await stores[0]!.audit()).find((e) => e.action === 'resource.banned')), /n1 banned for 10 min after 2 failures.*Operation not permitted/);
    await sleep(500);
    assert.deepEqual(await failures(), seen, 'failback asks n1 no more');
    assert.equal(ownerOf('web'), 'n2');
    assert.deepEqual(hosts.n1!.held(), []);
  });

  test('failure policy: a failback batch to a node that cannot register counts for each address; after the retries every one is banned there', async () => {
    const ips = [1, 2, 3].map((i) => `10.231.0.${120 + i}`);
    for (const [i, ip] of ips.entries()) await stores[0]!.putResource({ ...spec(`vip${i}`, ip, ['n1']), failback: { mode: 'immediate' } });
    await until('all online on n1', () => ips.every((ip) => hosts.n1!.held().includes(ip)));
    await sleep(300);
    await stores[0]!.setNodeState('n1', 'paused');
    await until('drained to n2', () => ips.every((ip) => hosts.n2!.held().includes(ip)) && hosts.n1!.held().length === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    refuseRegistration('n1', ips);
    await stores[0]!.setNodeState('n1', 'up');
    await until('every address banned on n1', async () => new Set((await stores[0]!.audit()).filter((e) => e.action === 'resource.banned').map((e) => e.target)).size === 3, 8000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await until('all back on n2', () => ips.every((ip) => hosts.n2!.held().includes(ip)) && [0, 1, 2].every((i) => stateOf(`vip${i}`) === 'online' && ownerOf(`vip${i}`) === 'n2'));
    const attempts = async (): Promise<number> => (await stores[0]!.audit()).filter((e) => (e.action === 'move' && e.outcome === 'failed') || e.action === 'resource.banned').length;
    const seen = await attempts();
    await sleep(500);
    assert.equal(await attempts(), seen, 'failback asks n1 no more');
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(agent('n2').clusterView.health.get('n1')?.bans?.map((b) => b.resource).sort(), ['vip0', 'vip1', 'vip2']);
    // The failed take of the batch was each address's first failure (counted on n1), its claim the second: no separate retry.
    assert.deepEqual((await stores[0]!.audit()).filter((e) => e.action === 'resource.retry').map((e) => e.target), []);
  });

  test('failure policy: health moves count towards the threshold; at the limit an owner failing its checks keeps the address and says so until a cleanup', async () => {
    const health = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 8080 }], intervalMs: 100, timeoutMs: 50, fall: 2, rise: 2 };
    const service = 'tcp:127.0.0.1:8080';
    hosts.n1!.services.add(service);
    hosts.n2!.services.add(service);
    await stores[0]!.putResource({ ...spec('web', VIP, ['n1']), health, failoverThreshold: { count: 1, windowSec: 3600 } });
    await until('web online on n1', () => stateOf('web') === 'online' && ownerOf('web') === 'n1');
    // The service dies on n1: one health move to n2, marked on n1.
    hosts.n1!.services.delete(service);
    await until('web moved to n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await until('the move marked in n1\'s record', () => agent('n2').clusterView.health.get('n1')?.failovers?.length === 1);
    // Back on n1, dead on n2: the second move would pass the threshold of one, so the address stays on n2, marked.
    hosts.n1!.services.add(service);
    hosts.n2!.services.delete(service);
    await until('marked at the limit', () => agent('n1').clusterView.statuses.get('web')?.failure?.kind === 'failover-limit').catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await sleep(500);
    assert.equal(ownerOf('web'), 'n2');
    assert.deepEqual(hosts.n2!.held(), [VIP]);
    assert.equal(stateOf('web'), 'online');
    const limited = (await stores[0]!.audit()).filter((e) => e.action === 'failover.limit');
    assert.equal(limited.length, 1, JSON.stringify((await stores[0]!.audit()).map((e) => [e.actor, e.action, e.detail])) + explain());
    assert.match(String(limited[0]!.detail), /^1 move caused by failures within 1 h: it stays put .*n2 fails its health checks and keeps it$/);
    // The cleanup resets the count and the mark: the next pass moves it to n1, where the service runs.
    const cleaned = await new AgentApiHandler(agent('n1'), stores[0]!).execute({ type: 'resource.cleanup', name: 'web' }, 'unit-test');
    assert.ok(cleaned.ok, JSON.stringify(cleaned));
    await until('web moved to n1 after the cleanup', () => stateOf('web') === 'online' && ownerOf('web') === 'n1' && hosts.n1!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
  });

  test('failure policy: banned everywhere is said and tried again when a ban ends; beyond the threshold the resource fails and waits for a cleanup', async () => {
    refuseRegistration('n1');
    refuseRegistration('n2');
    await stores[0]!.putResource({ ...spec('web', VIP, ['n1']), retries: 0, banForSec: 2 });
    await until('banned everywhere', () => agent('n1').clusterView.statuses.get('web')?.failure?.kind === 'banned-everywhere').catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.equal(stateOf('web'), 'failed');
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), []);
    // The bans end after 2 s: the resource is placed again (and banned again: both nodes still refuse).
    await until('a ban ended and web was tried again', async () => (await stores[0]!.audit()).filter((e) => e.action === 'resource.banned').length >= 3, 6000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });

    // A threshold of 2 moves caused by failures in the hour: reached already, the next failure fails it.
    await stores[0]!.putResource({ ...agent('n1').clusterView.resources.get('web')!, failoverThreshold: { count: 2, windowSec: 3600 } }, agent('n1').clusterView.resourceRevisions.get('web'));
    await until('failed at the limit', () => agent('n1').clusterView.statuses.get('web')?.failure?.kind === 'failover-limit', 8000).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    const limit = agent('n1').clusterView.statuses.get('web')?.failure;
    assert.match(JSON.stringify(limit), /could not register on n[12]: .*Operation not permitted/);
    // It stays failed (no ban ending places it again) until the cleanup, which resets the counts everywhere.
    await sleep(2500);
    assert.equal(agent('n1').clusterView.statuses.get('web')?.failure?.kind, 'failover-limit');
    const handler = new AgentApiHandler(agent('n1'), stores[0]!);
    const cleaned = await handler.execute({ type: 'resource.cleanup', name: 'web' }, 'unit-test');
    assert.ok(cleaned.ok, JSON.stringify(cleaned));
    await until('no marks left anywhere', () => [...agent('n1').clusterView.health.values()].every((record) => (record.failovers ?? []).length === 0));
  });

  test('a release datagram forged by someone who read the nonce in the store is ignored: never two holders', async () => {
    await online('web', VIP, 'n1');
    // The owner hears of "prepared" late, so the forger's datagram is certainly first.
    n1WatchDelayMs = 300;
    const violations = registrationsWhileHeld('n2', 'n1');
    // A reader of the store (a read-only etcd user, a backup) sees the prepared record and answers first.
    const forger = new HandoffIdentity();
    let forged = 0;
    const unwatch = await stores[1]!.watch((await stores[1]!.snapshot()).revision, (change) => {
      if (change.collection !== 'intents' || change.kind !== 'put' || change.value.kind !== 'move' || change.value.phase !== 'prepared' || change.value.notify === null) return;
      const { notify } = change.value;
      lan.sendDatagram(encodeReleasedNotice(forger.sign({ id: change.value.id, nonce: notify.nonce, releasedAt: Date.now() })), notify.port, notify.address);
      forged++;
    });
    try {
      await agent('n1').requestMove('web', 'n2', 'unit-test');
      await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && agent('n1').clusterView.intents.size === 0).catch((error: Error) => {
        throw new Error(error.message + explain());
      });
    } finally {
      await unwatch();
    }
    assert.equal(forged, 1);
    assert.deepEqual(violations, []);
    assert.ok(logs.some((line) => /n2: web: a release datagram for move:web:\S+ not signed by n1 was ignored/.test(line)), explain());
    // The owner's own, signed datagram was taken.
    assert.equal(lan.datagrams.sent, 2);
  });

  test('a lost release datagram costs only time: the target takes over when the store says "released"', async () => {
    await online('web', VIP, 'n1');
    lan.loseDatagrams = true;
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && agent('n1').clusterView.intents.size === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.equal(lan.datagrams.lost, 1);
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), [VIP]);
    assert.equal((await stores[0]!.audit()).filter((e) => e.action === 'move').at(-1)?.outcome, 'ok');
  });

  test('the target cannot register the address after the owner let go: the move fails, the address comes back', async () => {
    await online('web', VIP, 'n1');
    const addresses = hosts.n2!.addresses;
    const register = addresses.register.bind(addresses);
    (addresses as { register: typeof register }).register = (list, notAfter) =>
      list.some((item) => item.ip === VIP) ? list.map((address) => ({ address, ok: false as const, code: 'EPERM', message: 'refused by the test' })) : register(list, notAfter);
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('the move ended', () => agent('n1').clusterView.intents.size === 0);
    const move = (await stores[0]!.audit()).filter((e) => e.action === 'move').at(-1);
    assert.equal(move?.outcome, 'failed', JSON.stringify(move));
    await until('web online on a node again', () => stateOf('web') === 'online' && ownerOf('web') !== null).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.equal(ownerOf('web'), 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP]);
    assert.deepEqual(hosts.n2!.held(), []);
  });

  test('the pre-flight runs on the node that would take the address, asked through the store', async () => {
    await online('web', VIP, 'n1');
    const heard = await agent('n1').probeOn('n2', VIP, 'unit-test');
    assert.ok('verdict' in heard, JSON.stringify(heard));
    assert.equal(heard.verdict, 'owner-only');
    assert.deepEqual(heard.answeredBy, [hosts.n1!.mac]);
    const free = await agent('n1').probeOn('n2', '10.231.0.200', 'unit-test');
    assert.ok('verdict' in free, JSON.stringify(free));
    assert.equal(free.verdict, 'free');
    // The probe intents are gone once answered.
    await until('no probe intents left', () => [...agent('n1').clusterView.intents.values()].every((i) => i.kind !== 'probe'));
    // A node that never answers: the asker gives up after its timeout, and says so.
    const silent = await agent('n1').probeOn('n9', VIP, 'unit-test', 300);
    assert.deepEqual(silent, { ok: false, timedOut: true });
  });

  test('the owner\'s interface set down on the node: its addresses go at once, the other node takes over', async () => {
    await online('web', VIP, 'n1');
    // The standby (n2) has heard n1 answer its liveness probe: from now on n1's silence counts.
    await until('n2 watching n1', () => lan.wire.some((w) => w.from === 'n1' && w.frame.arp.op === 'reply' && w.frame.arp.targetIp === '0.0.0.0' && w.frame.arp.targetMac === hosts.n2!.mac));
    hosts.n1!.setDown();
    await until('n1 dropped the address', () => hosts.n1!.held().length === 0, 2000);
    await until('web online on n2', () => stateOf('web') === 'online' && ownerOf('web') === 'n2' && hosts.n2!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.match(logs.join('\n'), /n2: n1 silent on ARP for 10\.231\.0\.100/);
    // n2 found n1 silent itself a moment before: its takeover registered without a second look (no claim probe).
    const claimProbes = lan.wire.filter((w) => w.from === 'n2' && w.frame.arp.op === 'request' && w.frame.arp.senderIp === '0.0.0.0' && w.frame.arp.targetIp === VIP && w.frame.arp.targetMac === '00:00:00:00:00:00');
    assert.deepEqual(claimProbes, []);
    hosts.n1!.setUp();
    await sleep(500);
    // Back up, n1 does not take the address back from a live owner.
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), [VIP]);
  });

  test('an interface that took a new MAC: the node claims with it only once its record names it (never a conflict)', async () => {
    await online('web', VIP, 'n1');
    await until('n2 watching n1', () => lan.wire.some((w) => w.from === 'n1' && w.frame.arp.op === 'reply' && w.frame.arp.targetIp === '0.0.0.0' && w.frame.arp.targetMac === hosts.n2!.mac));
    const newMac = '02:77:00:00:00:99';
    hosts.n1!.setMac(newMac);
    await until('n1 dropped the address', () => hosts.n1!.held().length === 0, 2000);
    await until("n1's record names its new MAC", () => agent('n2').clusterView.nodes.get('n1')?.macs.lan0 === newMac, 5000);
    await until('web online on one node', () => stateOf('web') === 'online' && ownerOf('web') !== null && hosts[ownerOf('web')!]!.held().includes(VIP)).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    // No node took the new MAC for a stranger's.
    assert.deepEqual((await stores[0]!.audit()).filter((e) => e.action === 'fail'), []);
    const owner = ownerOf('web')!;
    assert.deepEqual(hosts[owner === 'n1' ? 'n2' : 'n1']!.held(), []);
  });

  test('an address a stranger already answers for is never registered: the node that won the key fails it as a conflict', async () => {
    const stranger = lan.host('rogue', '10.231.0.66', '02:66:00:00:00:66');
    stranger.table.push({ ifname: 'lan0', ip: VIP, prefix: 24, owned: false });
    await stores[0]!.putResource(spec('web', VIP, ['n1']));
    await until('web failed', () => stateOf('web') === 'failed');
    assert.deepEqual(agent('n1').clusterView.statuses.get('web')?.failure, { kind: 'conflict', mac: '02:66:00:00:00:66' });
    assert.equal(ownerOf('web'), null, 'the key was let go');
    assert.deepEqual(hosts.n1!.held(), []);
    assert.deepEqual(hosts.n2!.held(), []);
    // The status is written before the audit entry.
    let fail: Awaited<ReturnType<ClusterStore['audit']>> = [];
    await until('the failure in the audit log', async () => (fail = (await stores[0]!.audit()).filter((e) => e.action === 'fail')).length > 0);
    assert.equal(fail.length, 1, JSON.stringify(fail));
    assert.equal(fail[0]!.actor, 'n1');
    assert.match(String(fail[0]!.detail), /02:66:00:00:00:66/);
  });

  test('a drain moves many addresses as one batch: one registration on the target, never held by both hosts, one audit entry each', async () => {
    const ips = [1, 2, 3, 4, 5].map((i) => `10.231.0.${110 + i}`);
    for (const [i, ip] of ips.entries()) await online(`vip${i}`, ip, 'n1');
    const violations = registrationsWhileHeld('n2', 'n1');
    const batches: number[] = [];
    const register = hosts.n2!.addresses.register.bind(hosts.n2!.addresses);
    (hosts.n2!.addresses as { register: typeof register }).register = (list, notAfter) => {
      if (list.some((item) => ips.includes(item.ip) && item.validLftSec === undefined)) batches.push(list.length);
      return register(list, notAfter);
    };
    await sleep(300); // the last claim's status and audit writes end: no work in flight when the drain is planned
    await stores[0]!.setNodeState('n1', 'paused');
    await until('every address on n2', () => ips.every((ip) => hosts.n2!.held().includes(ip)) && hosts.n1!.held().length === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    assert.deepEqual(violations, []);
    assert.deepEqual(batches, [5], `one netlink batch for the five: ${JSON.stringify(batches)}`);
    await until('the batch reported', () => logs.some((line) => /^n2: batch batch:n1:n2:\S+: 5 of 5 addresses taken from n1/.test(line))).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await until('five move entries', async () => (await stores[0]!.audit()).filter((e) => e.action === 'move' && e.actor === 'drain' && e.outcome === 'ok').length === 5);
    await until('the batch record gone', () => agent('n1').clusterView.intents.size === 0 && agent('n2').clusterView.intents.size === 0);
  });

  test("a dead owner's addresses are taken over together by the standby that heard its silence: keys in one transaction, no second look, one registration", async () => {
    const ips = [1, 2, 3, 4].map((i) => `10.231.0.${120 + i}`);
    for (const [i, ip] of ips.entries()) await online(`take${i}`, ip, 'n1');
    await until('n2 watching n1', () => lan.wire.some((w) => w.from === 'n1' && w.frame.arp.op === 'reply' && w.frame.arp.targetIp === '0.0.0.0' && w.frame.arp.targetMac === hosts.n2!.mac));
    hosts.n1!.setDown();
    await until('every address on n2', () => ips.every((ip) => hosts.n2!.held().includes(ip)) && ips.every((_, i) => ownerOf(`take${i}`) === 'n2' && stateOf(`take${i}`) === 'online')).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    await until('the takeover reported', () => logs.some((line) => /^n2: claimed together: 4 of 4 addresses of silent n1 held .*\(4 failovers/.test(line))).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    const failovers = (await stores[0]!.audit()).filter((e) => e.action === 'failover' && e.detail?.startsWith('from n1') && e.outcome === 'ok');
    assert.deepEqual(failovers.map((e) => e.target).sort(), ['take0', 'take1', 'take2', 'take3']);
    // The standby's own evidence gives every takeover its gap, whenever the silence intent reaches the view.
    assert.ok(failovers.every((e) => typeof e.handoffMs === 'number' && e.handoffMs > 0), JSON.stringify(failovers));
  });

  test('groups: added over two nodes, a group gathers on one; group.move and the move of a member move all of it in one batch; a drain too', async () => {
    await online('inside', '10.231.0.131', 'n1');
    await online('outside', '10.231.0.132', 'n2');
    const handler = new AgentApiHandler(agent('n2'), stores[1]!);
    const refused = await handler.execute({ type: 'group.add', name: 'gw', resources: ['inside', 'nothing'] }, 'unit-test');
    assert.deepEqual(refused, { ok: false, error: { code: 'not-found', message: 'no resource named "nothing"', field: 'resources' } });
    assert.equal(agent('n1').clusterView.resources.get('inside')?.group, undefined, 'a refused group.add changed nothing');
    const added = await handler.execute({ type: 'group.add', name: 'gw', resources: ['inside', 'outside'] }, 'unit-test');
    assert.ok(added.ok, JSON.stringify(added));
    // n1 holds inside, n2 holds outside: split. The home is the holder first by preference rank then name: n1.
    await until('gw gathered on one node', () => ownerOf('inside') !== null && ownerOf('inside') === ownerOf('outside') && stateOf('outside') === 'online' && stateOf('inside') === 'online').catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    const home = ownerOf('inside')!;
    const other = home === 'n1' ? 'n2' : 'n1';
    assert.deepEqual(hosts[home]!.held().sort(), ['10.231.0.131', '10.231.0.132']);
    const batches: number[] = [];
    const register = hosts[other]!.addresses.register.bind(hosts[other]!.addresses);
    (hosts[other]!.addresses as { register: typeof register }).register = (list, notAfter) => {
      batches.push(list.length);
      return register(list, notAfter);
    };
    // The move of one member moves the group: one batch, one registration of both.
    const moved = await handler.execute({ type: 'resource.move', name: 'outside', target: other }, 'unit-test');
    assert.ok(moved.ok && (moved.result as { outcome: string }).outcome === 'done', JSON.stringify(moved) + explain());
    assert.equal(ownerOf('inside'), other);
    assert.equal(ownerOf('outside'), other);
    assert.deepEqual(batches.filter((size) => size > 0).slice(0, 1), [2], `one registration for both: ${JSON.stringify(batches)}`);
    // A drain of that node takes them both back, together.
    await stores[0]!.setNodeState(other, 'paused');
    await until('gw drained to one node', () => ownerOf('inside') === home && ownerOf('outside') === home && hosts[other]!.held().length === 0).catch((error: Error) => {
      throw new Error(error.message + explain());
    });
    const listed = await handler.execute({ type: 'group.remove', name: 'gw' }, 'unit-test');
    assert.ok(listed.ok, JSON.stringify(listed));
    await until('members out of the group', () => agent('n1').clusterView.resources.get('inside')?.group === undefined && agent('n1').clusterView.resources.get('outside')?.group === undefined);
    const edit = await handler.execute({ type: 'resource.edit', name: 'inside', patch: { group: 'gw' } }, 'unit-test');
    assert.equal(edit.ok, false, 'a group is joined through group.add only');
  });

  test('a stranger answering the target\'s trusted probe fails the move; the owner keeps the address', async () => {
    await online('web', VIP, 'n1');
    const stranger = lan.host('rogue', '10.231.0.66', '02:66:00:00:00:66');
    // The rogue's "kernel" answers for the address too (it was configured there by hand).
    stranger.table.push({ ifname: 'lan0', ip: VIP, prefix: 24, owned: false });
    await agent('n1').requestMove('web', 'n2', 'unit-test');
    await until('the move ended', () => agent('n1').clusterView.intents.size === 0);
    const moves = (await stores[0]!.audit()).filter((e) => e.action === 'move');
    assert.equal(moves.at(-1)?.outcome, 'failed', JSON.stringify(moves));
    assert.match(String(moves.at(-1)?.detail), /answered by 02:66:00:00:00:66/);
    assert.equal(ownerOf('web'), 'n1');
    assert.deepEqual(hosts.n1!.held(), [VIP]);
    assert.deepEqual(hosts.n2!.held(), []);
  });

  test('an edit written over another console\'s edit this agent has not seen yet is refused, not lost', async () => {
    await online('web', VIP, 'n1');
    const handler = new AgentApiHandler(agent('n1'), stores[0]!);
    const edited = await handler.execute({ type: 'resource.edit', name: 'web', patch: { announceCount: 4 } }, 'unit-a');
    assert.equal(edited.ok, true, JSON.stringify(edited));
    await until('n1 saw its own edit', () => agent('n1').clusterView.resources.get('web')?.announceCount === 4);
    // Another console's edit through n2 reaches n1 late; n1's edit meanwhile was validated on the old spec.
    n1WatchDelayMs = 300;
    const other = await new AgentApiHandler(agent('n2'), stores[1]!).execute({ type: 'resource.edit', name: 'web', patch: { announceIntervalMs: 1500 } }, 'unit-b');
    assert.equal(other.ok, true, JSON.stringify(other));
    const stale = await handler.execute({ type: 'resource.edit', name: 'web', patch: { announceCount: 5 } }, 'unit-a');
    assert.equal(stale.ok, false, JSON.stringify(stale));
    assert.equal(!stale.ok && stale.error.code, 'conflict');
    // Both earlier edits are in the store; the stale one is not.
    const stored = (await stores[0]!.resources()).find((r) => r.spec.name === 'web')?.spec;
    assert.equal(stored?.announceCount, 4);
    assert.equal(stored?.announceIntervalMs, 1500);
  });

  test('a node whose lease was revoked rejoins, replaces its view and tells listeners to start over', async () => {
    const resets: string[] = [];
    agent('n2').on('reset', (reason) => resets.push(reason));
    const member = agent('n1').clusterView.members.get('n2');
    assert.ok(member);
    assert.equal(await stores[0]!.revokeMembership(member.leaseId), true);
    await until('n2 rejoined and reset its listeners', () => resets.length > 0, 5000);
    assert.deepEqual(resets, ['joined']);
    await until('n2 alive again', () => agent('n1').clusterView.isAlive('n2') && agent('n1').clusterView.members.get('n2')?.leaseId !== member.leaseId);
  });
});

describe('records in the store that are not what they claim to be', () => {
  test('are left out and reported once; the good resources come online and the reconcile goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ipfo-agent-rejected-'));
    const lan = new FakeLan();
    const hosts = { n1: lan.host('n1', '10.231.0.1', '02:77:00:00:00:01'), n2: lan.host('n2', '10.231.0.2', '02:77:00:00:00:02') };
    const stores: ClusterStore[] = [];
    const agents: Agent[] = [];
    try {
      const seed = await FileStore.open({ dir });
      await seed.putResource(spec('web', VIP, ['n1']));
      await seed.close();
      // Written by something that is not an agent: the record without its lists (it froze every
      // reconcile), and an address the API refuses (an agent placed it).
      const stateFile = join(dir, 'state.json');
      const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { entries: { resources: Record<string, unknown> } };
      state.entries.resources.evil = { value: { name: 'evil', ip: '10.231.0.5', prefix: 24, enabled: true }, create: 1, mod: 1 };
      state.entries.resources.mcast = { value: { ...spec('mcast', '10.231.0.6', ['n1']), ip: '224.0.0.1' }, create: 1, mod: 1 };
      writeFileSync(stateFile, JSON.stringify(state));
      for (const node of ['n1', 'n2'] as const) {
        const store = await FileStore.open({ dir });
        stores.push(store);
        const started = new Agent({ node, store, version: 'test', host: hosts[node], ownerSilenceMs: 250 });
        agents.push(started);
        await started.start();
      }
      const view = (): ReturnType<Agent['clusterView']['statuses']['get']> => agents[0]!.clusterView.statuses.get('web');
      await until('web online', () => view()?.state === 'online');
      assert.deepEqual([...agents[1]!.clusterView.rejected.keys()].sort(), ['resources/evil', 'resources/mcast']);
      assert.deepEqual(hosts.n1.held(), [VIP], 'only the good address is placed');
      assert.deepEqual(hosts.n2.held(), []);
      // The reconcile goes on: a resource added now comes online.
      await stores[0]!.putResource(spec('db', '10.231.0.101', ['n2']));
      await until('db online', () => agents[0]!.clusterView.statuses.get('db')?.state === 'online' && hosts.n2.held().includes('10.231.0.101'));
      // Reported once for the cluster (by n1, the first live member by name), with key and reason.
      let reported: Awaited<ReturnType<ClusterStore['audit']>> = [];
      await until('two store.rejected entries', async () => (reported = (await stores[0]!.audit()).filter((e) => e.action === 'store.rejected')).length >= 2);
      await sleep(200);
      reported = (await stores[0]!.audit()).filter((e) => e.action === 'store.rejected');
      assert.deepEqual(reported.map((e) => [e.actor, e.target, e.outcome]).sort(), [['n1', 'evil', 'rejected'], ['n1', 'mcast', 'rejected']]);
      assert.match(String(reported.find((e) => e.target === 'mcast')?.detail), /^resources\/mcast \(revision 1\): ip: .*multicast/);
      // Consoles see them in the snapshot; a good record written over one clears it, and they are told.
      const handler = new AgentApiHandler(agents[1]!, stores[1]!);
      const pushed: unknown[] = [];
      handler.subscribe((update) => pushed.push(update));
      const snapshot = await handler.snapshot();
      assert.deepEqual(snapshot.snapshot.rejected.map((r) => r.key).sort(), ['resources/evil', 'resources/mcast']);
      await stores[0]!.putResource(spec('evil', '10.231.0.5', ['n2']));
      await until('the rejection cleared', () => !agents[1]!.clusterView.rejected.has('resources/evil'));
      assert.ok(pushed.some((u) => JSON.stringify(u).includes('"kind":"rejected-cleared","key":"resources/evil"')), JSON.stringify(pushed));
      await until('evil, now a good record, online', () => agents[0]!.clusterView.statuses.get('evil')?.state === 'online');
    } finally {
      for (const a of agents) await a.stop({ handOff: false }).catch(() => undefined);
      for (const s of stores) await s.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
