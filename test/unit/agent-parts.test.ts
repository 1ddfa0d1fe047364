// The agent's parts one by one, without root, network or etcd: the view's peer lookups, whom a standby
// watches (standby.ts), the host-address cache, the per-resource work and its pacing (resource-work.ts),
// the lease keeper carrying out cluster/fencing.ts (lease-keeper.ts), the status writer. The parts
// together, as real agents on a fake LAN, are test/unit/agent.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClusterView } from '../../main/agent/cluster-view';
import { HostAddressCache } from '../../main/agent/host-address-cache';
import { LeaseKeeper } from '../../main/agent/lease-keeper';
import type { LocalAddresses } from '../../main/agent/local-addresses';
import type { AgentEvent } from '../../main/agent/node-context';
import { ResourceRecords } from '../../main/agent/resource-records';
import { FAILED_WORK_BACKOFF_MS, ResourceWork } from '../../main/agent/resource-work';
import { standbyTargets } from '../../main/agent/standby';
import type { ResourceSpec, ResourceStatus } from '../../main/cluster/model';
import { validateResourceSpec } from '../../main/cluster/validate';
import type { InterfaceAddress } from '../../main/host/address-types';
import type { ClusterStore, Membership } from '../../main/store/store';
import { nodeRecord } from '../fixtures/records';
import { FakeLan } from './fake-host';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}


function spec(name: string, ip: string, preferredOwners: string[]): ResourceSpec {
  const validation = validateResourceSpec({ name, ip: `${ip}/24`, preferredOwners }, { nodes: ['n1', 'n2', 'n3'], existing: [] });
  if (!validation.ok) throw new Error(JSON.stringify(validation.errors));
  return validation.spec;
}

const online = (name: string, owner: string): ResourceStatus => ({ name, state: 'online', owner, ownerMac: '02:00:00:00:00:01', failure: null, since: 1, lastHandoffMs: null });

/** Three live nodes; `web` (n1, n2, n3 in that order) and `db` (n3 first) online on their first choice. */
function threeNodeView(): ClusterView {
  const view = new ClusterView();
  for (const [i, name] of ['n1', 'n2', 'n3'].entries()) {
    view.nodes.set(name, nodeRecord(name, { lan0: `02:00:00:00:00:0${i + 1}` }));
    view.members.set(name, { leaseId: `lease-${name}`, joinedAt: 1 });
  }
  for (const [name, ip, owners] of [['web', '10.231.0.10', ['n1', 'n2', 'n3']], ['db', '10.231.0.11', ['n3', 'n1', 'n2']]] as const) {
    view.resources.set(name, spec(name, ip, [...owners]));
    view.owners.set(name, { node: owners[0], leaseId: `lease-${owners[0]}` });
    view.statuses.set(name, online(name, owners[0]));
  }
  return view;
}

const station = (ip: string): InterfaceAddress => ({ ifname: 'lan0', ifindex: 2, ip, prefix: 24, proto: 0, owned: false, label: 'lan0', validLftSec: null, preferredLftSec: null, flags: 0 });

describe('ClusterView: peers by MAC', () => {
  test('peerMacs names every other node\'s station MACs once, never its own or a broadcast/zero MAC', () => {
    const view = new ClusterView();
    view.nodes.set('n1', nodeRecord('n1', { lan0: '02:00:00:00:00:01' }));
    view.nodes.set('n2', nodeRecord('n2', { lan0: '02:00:00:00:00:02', lan1: '02:00:00:00:00:02', bond0: 'ff:ff:ff:ff:ff:ff' }));
    view.nodes.set('n3', nodeRecord('n3', { lan0: '02:00:00:00:00:03', dummy: '00:00:00:00:00:00' }));
    assert.deepEqual(view.peerMacs('n1').sort(), ['02:00:00:00:00:02', '02:00:00:00:00:03']);
    assert.equal(view.nodeOfMac('n1', '02:00:00:00:00:03'), 'n3');
    assert.equal(view.nodeOfMac('n1', '02:00:00:00:00:01'), null, 'our own MAC is not a peer\'s');
    assert.equal(view.nodeOfMac('n1', '02:66:00:00:00:66'), null);
  });
});

describe('standbyTargets', () => {
  test('a node watches exactly the owners it is first standby for, on the interface it would carry the address on', () => {
    const view = threeNodeView();
    const addresses = [station('10.231.0.2')];
    assert.deepEqual(standbyTargets(view, 'n2', () => addresses), [{ resource: 'web', ip: '10.231.0.10', ifname: 'lan0', owner: 'n1', ownerLeaseId: 'lease-n1' }]);
    assert.deepEqual(standbyTargets(view, 'n1', () => addresses).map((t) => t.resource), ['db'], 'n1 is db\'s first standby');
    assert.deepEqual(standbyTargets(view, 'n3', () => addresses), [], 'second in line for web, owner of db');
  });

  test('nothing is watched while a move is open, the resource is not online under its key\'s owner, or disabled', () => {
    const view = threeNodeView();
    view.intents.set('m', { id: 'm', kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n3', actor: 't', createdAt: 1 });
    view.statuses.set('db', { ...online('db', 'n3'), state: 'online-pending' });
    let reads = 0;
    assert.deepEqual(standbyTargets(view, 'n2', () => (reads++, [station('10.231.0.2')])), []);
    assert.deepEqual(standbyTargets(view, 'n1', () => (reads++, [station('10.231.0.1')])), []);
    assert.equal(reads, 0, 'the host\'s addresses are not read when there is nothing to watch');
    view.intents.delete('m');
    view.resources.set('web', { ...view.resources.get('web')!, enabled: false });
    assert.deepEqual(standbyTargets(view, 'n2', () => [station('10.231.0.2')]), []);
  });

  test('a standby with no interface in the address\'s subnet watches nothing (it could not take the address)', () => {
    assert.deepEqual(standbyTargets(threeNodeView(), 'n2', () => [station('192.168.50.2')]), []);
  });
});

describe('HostAddressCache', () => {
  /** A cache on a fake host whose listings are counted, on a clock the test moves. */
  function countedCache() {
    const host = new FakeLan().host('n1', '10.231.0.1', '02:00:00:00:00:01');
    const counts = { dumps: 0 };
    const listAll = host.addresses.listAll.bind(host.addresses);
    host.addresses.listAll = (ifname) => (counts.dumps++, listAll(ifname));
    const clock = { now: 1000 };
    return { host, counts, clock, cache: new HostAddressCache(host, 'n1', () => clock.now) };
  }

  test('the host is asked at most once per 100 ms, and again at once after our own change', () => {
    const { host, counts, clock, cache } = countedCache();
    const web = spec('web', '10.231.0.10', ['n1']);
    for (let i = 0; i < 1000; i++) assert.deepEqual(cache.interfaceFor(web), { ok: true, ifname: 'lan0' });
    assert.equal(counts.dumps, 1);
    host.addresses.register([{ ifname: 'lan0', ip: '10.231.0.10', prefix: 24 }]);
    assert.equal(cache.isPresent(web, 'lan0'), false, 'within 100 ms the cached listing answers');
    cache.invalidate();
    assert.equal(cache.isPresent(web, 'lan0'), true);
    assert.equal(counts.dumps, 2);
    clock.now += 101;
    cache.all();
    assert.equal(counts.dumps, 3);
  });

  test('station addresses: read at most once a second, and our own addresses never among them', () => {
    const { host, counts, clock, cache } = countedCache();
    host.addresses.register([{ ifname: 'lan0', ip: '10.231.0.10', prefix: 24 }]);
    assert.deepEqual(cache.stations().map((a) => a.ip), ['10.231.0.1']);
    cache.invalidate(); // our own change: the full listing is read again, the stations are not
    clock.now += 500;
    cache.stations();
    assert.equal(counts.dumps, 1);
    clock.now += 501;
    cache.stations();
    assert.equal(counts.dumps, 2);
    // A full read brings the stations up to date as well.
    clock.now += 101;
    cache.all();
    cache.stations();
    assert.equal(counts.dumps, 3);
  });

  test('resources on a missing interface: the host is read again at most once per 100 ms, not once per resource', () => {
    const { counts, clock, cache } = countedCache();
    const elsewhere = (i: number) => spec(`far${i}`, `10.99.0.${i + 1}`, ['n1']);
    for (let i = 0; i < 100; i++) assert.equal(cache.interfaceFor(elsewhere(i)).ok, false);
    assert.equal(counts.dumps, 1);
    clock.now += 200;
    for (let i = 0; i < 100; i++) assert.equal(cache.interfaceFor(elsewhere(i)).ok, false);
    assert.equal(counts.dumps, 2);
  });

  test('an interface that came back within the second is found: no interface by the cached stations reads the host again', () => {
    const host = new FakeLan().host('n1', '10.231.0.1', '02:00:00:00:00:01');
    const listAll = host.addresses.listAll.bind(host.addresses);
    let gone = true;
    host.addresses.listAll = (ifname) => (gone ? [] : listAll(ifname));
    let now = 1000;
    const cache = new HostAddressCache(host, 'n1', () => now);
    assert.deepEqual(cache.stations(), []); // read while the interface was deleted
    gone = false; // re-created with its address
    now += 200;
    assert.deepEqual(cache.interfaceFor(spec('web', '10.231.0.10', ['n1'])), { ok: true, ifname: 'lan0' });
  });

  test('no interface in the subnet: interface-missing, naming this node', () => {
    const host = new FakeLan().host('n1', '10.231.0.1', '02:00:00:00:00:01');
    const result = new HostAddressCache(host, 'n1').interfaceFor(spec('far', '10.99.0.10', ['n1']));
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.failure.kind, 'interface-missing');
    assert.equal(!result.ok && result.failure.kind === 'interface-missing' && result.failure.node, 'n1');
  });
});

describe('ResourceWork', () => {
  test('one piece of work per resource; a pass follows the end of work; many schedules make one pass', async () => {
    let passes = 0;
    const work = new ResourceWork(() => Promise.resolve(void passes++), () => undefined);
    let release!: () => void;
    const running = work.guard('web', () => new Promise<void>((resolve) => (release = resolve)));
    assert.equal(work.busy('web'), true);
    assert.equal(work.busy('db'), false);
    for (let i = 0; i < 50; i++) work.schedule();
    await new Promise((resolve) => setImmediate(resolve)); // queued after the pass
    await sleep(20);
    assert.equal(passes, 1, 'fifty schedules in one turn: one pass');
    release();
    await running;
    assert.equal(work.busy('web'), false);
    await sleep(120);
    assert.equal(passes, 2, 'the end of work asked for one more');
  });

  test('work that threw is not started again before the back-off; the failure is logged with the resource', async () => {
    const lines: string[] = [];
    const work = new ResourceWork(() => Promise.resolve(), (line) => lines.push(line));
    let runs = 0;
    const failing = (): Promise<void> => {
      runs++;
      return Promise.reject(new Error('stale record'));
    };
    await work.guard('web', failing);
    await work.guard('web', failing);
    await work.guard('db', failing);
    assert.equal(runs, 2, 'web once (backing off), db once');
    assert.match(lines[0]!, new RegExp(`^web: stale record \\(tried again in ${FAILED_WORK_BACKOFF_MS} ms\\)$`));
  });
});

describe('LeaseKeeper', () => {
  /** A membership whose confirmed deadline the test moves (validUntil), as keepalives would. */
  function fakeMembership(ttlSec: number): Membership & { confirm(atMs: number): void; lose(reason: string): void } {
    let validUntil = performance.now() + ttlSec * 1000;
    let lost: ((reason: 'expired') => void) | null = null;
    const membership = {
      node: 'n1',
      leaseId: 'lease-1',
      ttlSec,
      ended: false,
      validUntil: () => validUntil,
      onLost: (listener: (reason: 'expired') => void) => ((lost = listener), () => undefined),
      revoke: () => Promise.resolve(),
      confirm: (atMs: number) => (validUntil = atMs + ttlSec * 1000),
      lose: () => {
        membership.ended = true;
        lost?.('expired');
      },
    };
    return membership;
  }

  function keeper(membership: Membership, held: string[]) {
    const events: AgentEvent[] = [];
    const calls: string[] = [];
    let stopping = false;
    const local = {
      resources: () => [...held],
      fenceAll: () => {
        calls.push(`fenceAll(${held.length})`);
        held.length = 0;
      },
      renew: (lifetimeSec: number) => (calls.push(`renew(${lifetimeSec})`), true),
    } as unknown as LocalAddresses;
    const store = { join: () => Promise.resolve(membership) } as unknown as ClusterStore;
    const lease = new LeaseKeeper({
      context: { node: 'n1', store, local, emit: (event) => events.push(event), log: () => undefined },
      ttlSec: 3,
      lifetimeSec: 2,
      deadlineFile: null,
      nodeRecord: () => nodeRecord('n1', {}),
      joined: () => Promise.resolve(void calls.push('joined')),
      unfenced: () => void calls.push('unfenced'),
      stopping: () => stopping,
    });
    return { lease, events, calls, stop: () => (stopping = true) };
  }

  test('join, renew from a confirmed lease, fence when keepalives stop, unfence only after one sent since the fence', async () => {
    const membership = fakeMembership(3);
    const { lease, events, calls } = keeper(membership, ['web', 'db']);
    await lease.join();
    assert.deepEqual(events, [{ type: 'joined', leaseId: 'lease-1' }]);
    assert.deepEqual(calls, ['joined']);
    assert.equal(lease.healthy(), true);
    assert.equal(lease.permitSend(), true);
    await sleep(250);
    membership.confirm(performance.now());
    lease.check();
    assert.deepEqual(calls, ['joined', 'renew(2)']);
    // Keepalives stop: the lease is unconfirmed 300 ms before its deadline.
    membership.confirm(performance.now() - 2800);
    lease.check();
    assert.deepEqual(calls.slice(2), ['fenceAll(2)']);
    assert.equal(lease.fenced(), true);
    assert.equal(lease.permitSend(), false);
    assert.equal(events.at(-1)?.type, 'fenced');
    // A keepalive sent after the fence is confirmed.
    await sleep(5);
    membership.confirm(performance.now());
    lease.check();
    assert.equal(lease.fenced(), false, 'confirmed again: no longer fenced');
    assert.deepEqual(calls.slice(3), ['unfenced']);
    lease.close();
  });

  test('a keepalive sent before the fence and confirmed late does not unfence (it proves nothing about the time between)', async () => {
    const membership = fakeMembership(3);
    const { lease, calls } = keeper(membership, ['web']);
    await lease.join();
    const beforeFence = performance.now() - 2800;
    membership.confirm(beforeFence);
    lease.check();
    assert.equal(lease.fenced(), true);
    membership.confirm(beforeFence + 1); // still sent before the fence
    lease.check();
    assert.equal(lease.fenced(), true);
    assert.equal(calls.includes('unfenced'), false);
    lease.close();
  });

  test('a lost lease drops every address at once and forgets the membership', async () => {
    const membership = fakeMembership(3);
    const { lease, events, calls, stop } = keeper(membership, ['web', 'db', 'mail']);
    await lease.join();
    stop(); // no rejoin in this test
    membership.lose('expired');
    assert.equal(lease.membership(), null);
    assert.equal(lease.healthy(), false);
    assert.deepEqual(calls, ['joined', 'fenceAll(3)']);
    assert.deepEqual(events.at(-1), { type: 'fenced', reason: 'lease expired', addresses: 3 });
    lease.close();
  });

  test('a rejoin whose resync fails gives its membership up: one rejoin loop, and an old lease lost later fences nothing', async () => {
    const made: Array<ReturnType<typeof fakeMembership>> = [];
    const revoked: string[] = [];
    const store = {
      join: () => {
        const membership = fakeMembership(3);
        (membership as { leaseId: string }).leaseId = `lease-${made.length + 1}`;
        membership.revoke = () => (revoked.push(membership.leaseId), Promise.resolve());
        made.push(membership);
        return Promise.resolve(membership);
      },
    } as unknown as ClusterStore;
    const events: AgentEvent[] = [];
    let resyncFailures = 0;
    const lease = new LeaseKeeper({
      context: { node: 'n1', store, local: { resources: () => [], fenceAll: () => undefined, renew: () => true } as unknown as LocalAddresses, emit: (event) => events.push(event), log: () => undefined },
      ttlSec: 3,
      lifetimeSec: 2,
      deadlineFile: null,
      nodeRecord: () => nodeRecord('n1', {}),
      joined: () => (resyncFailures-- > 0 ? Promise.reject(new Error('etcd unreachable')) : Promise.resolve()),
      unfenced: () => undefined,
      stopping: () => false,
    });
    await lease.join();
    resyncFailures = 1;
    made[0]!.lose('expired');
    made[0]!.lose('expired'); // told twice: still one loop
    await until('rejoined', () => lease.membership()?.leaseId === 'lease-3', 5000);
    assert.equal(made.length, 3, 'one join per try: lease-2 (resync failed), lease-3');
    assert.deepEqual(revoked, ['lease-2'], 'the membership whose resync failed is given up');
    // lease-2 expires later in the store: lease-3 is untouched.
    made[1]!.lose('expired');
    assert.equal(lease.membership()?.leaseId, 'lease-3');
    assert.equal(events.filter((event) => event.type === 'fenced').length, 1);
    lease.close();
  });
});

describe('ResourceRecords', () => {
  test('a status keeps its "since" while state and owner stay, and is in the local view before the store answers', async () => {
    const view = new ClusterView();
    const written: ResourceStatus[] = [];
    let seenInView: ResourceStatus | undefined;
    const store = {
      putStatus: (status: ResourceStatus) => {
        seenInView = view.statuses.get(status.name);
        written.push(status);
        return Promise.resolve();
      },
    } as unknown as ClusterStore;
    const records = new ResourceRecords({ node: 'n1', store, view: () => view, log: () => undefined });
    await records.putStatus('web', { state: 'online', owner: 'n1', ownerMac: '02:00:00:00:00:01', failure: null });
    const since = written[0]!.since;
    assert.equal(seenInView, written[0]);
    await sleep(5);
    await records.putStatus('web', { state: 'online', owner: 'n1', ownerMac: '02:00:00:00:00:09', failure: null });
    assert.equal(written[1]!.since, since, 'same state and owner: same since');
    await records.putStatus('web', { state: 'online', owner: 'n2', ownerMac: '02:00:00:00:00:02', failure: null });
    assert.ok(written[2]!.since > since, 'a new owner starts a new period');
  });
});
