// The etcd store against a real etcd (Debian's etcd-server, started here on free loopback ports):
// the shared contract, then what only etcd brings - an etcd that stops and comes back, an etcd
// that hangs past the lease TTL, and an endpoint where nothing listens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { EtcdStore } from '../../main/store/etcd-store';
import { isStoreError, type ClusterStore, type LeaseLossReason, type StoreChange } from '../../main/store/store';
import { EtcdServer, freePort } from './etcd';
import { nodeRecord, resourceSpec, runStoreContract, type ClusterHandle } from './store-contract';

let etcd: EtcdServer | null = null;
let clusterCounter = 0;

function server(): EtcdServer {
  if (etcd === null) throw new Error('etcd is not running');
  return etcd;
}

before(async () => {
  etcd = await EtcdServer.launch();
});

after(async () => {
  const started = etcd;
  etcd = null;
  if (started === null) return;
  const pid = started.pid;
  await started.destroy();
  assert.equal(started.running, false, `etcd ${String(pid)} is stopped`);
  assert.equal(existsSync(started.dataDir), false, 'its data dir is removed');
});

/** Each test gets its own key prefix (ipfo/<cluster>/) on the shared etcd. */
function newClusterName(): string {
  clusterCounter += 1;
  return `t${process.pid}-${clusterCounter}`;
}

function clusterOn(cluster: string, options: { auditRetention?: number } = {}): ClusterHandle {
  const connections: ClusterStore[] = [];
  return {
    async connect() {
      const store = await EtcdStore.open({ endpoints: [server().endpoint], cluster, ...options });
      connections.push(store);
      return store;
    },
    async cleanup() {
      for (const store of connections) await store.close();
    },
  };
}

runStoreContract({
  name: 'etcd store',
  newCluster: (options = {}) => Promise.resolve(clusterOn(newClusterName(), options)),
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('etcd store with etcd going away', { timeout: 60_000 }, () => {
  test('etcd stopped and restarted within the TTL: the membership survives, calls fail meanwhile, the watch misses nothing', async () => {
    const cluster = clusterOn(newClusterName());
    try {
      const store = await cluster.connect();
      const membership = await store.join(nodeRecord('n1'), { ttlSec: 8 });
      const losses: LeaseLossReason[] = [];
      membership.onLost((reason) => losses.push(reason));
      assert.equal((await store.acquire('web', membership)).ok, true);
      const snapshot = await store.snapshot();
      const changes: StoreChange[] = [];
      const resets: string[] = [];
      await store.watch(snapshot.revision, (change) => changes.push(change), (reason) => resets.push(reason));
      await store.putResource(resourceSpec('before'));

      await server().stop();
      await assert.rejects(store.putResource(resourceSpec('during')), (error) => isStoreError(error, 'unavailable'));
      await sleep(1000);
      await server().start();

      const validBefore = membership.validUntil();
      const deadline = performance.now() + 5000;
      while (membership.validUntil() === validBefore && performance.now() < deadline) await sleep(50);
      assert.ok(membership.validUntil() > validBefore, 'keepalives resumed after etcd came back');
      assert.equal(membership.ended, false);
      assert.deepEqual(losses, []);
      assert.deepEqual(
        (await store.owners()).map((o) => [o.resource, o.leaseId]),
        [['web', membership.leaseId]],
        'no ownership moved while the lease was valid',
      );
      const last = await store.putResource(resourceSpec('after'));
      while (!changes.some((c) => c.revision === last) && performance.now() < deadline + 5000) await sleep(50);
      assert.deepEqual(
        changes.map((c) => `${c.kind} ${c.collection}/${c.name}`),
        ['put resources/before', 'put resources/after'],
        'the watch reconnected and resumed exactly after the last change it delivered',
      );
      assert.deepEqual(resets, []);
      await membership.revoke();
    } finally {
      await cluster.cleanup();
    }
  });

  test('etcd hanging past the TTL: the membership is lost at validUntil(), never later, and a conservative validUntil', async () => {
    const cluster = clusterOn(newClusterName());
    try {
      const store = await cluster.connect();
      const observer = await cluster.connect();
      const membership = await store.join(nodeRecord('n1'), { ttlSec: 2 });
      assert.equal((await store.acquire('web', membership)).ok, true);
      let lostAt: number | null = null;
      let lossReason: LeaseLossReason | null = null;
      let validUntilAtLoss = 0;
      membership.onLost((reason) => {
        lostAt = performance.now();
        lossReason = reason;
        validUntilAtLoss = membership.validUntil();
      });
      await sleep(1200); // a few keepalives confirmed
      const frozenAt = performance.now();
      server().freeze();
      try {
        const validUntil = membership.validUntil();
        // Every renewal it counts was sent before the freeze, and etcd counts from receipt.
        assert.ok(validUntil <= frozenAt + membership.ttlSec * 1000, 'validUntil never exceeds last send + TTL');
        while (lostAt === null && performance.now() < frozenAt + 5000) await sleep(10);
      } finally {
        server().thaw();
      }
      assert.equal(lossReason, 'expired');
      assert.ok(lostAt !== null);
      const late = (lostAt as number) - validUntilAtLoss;
      assert.ok(late >= 0 && late < 200, `lost ${late.toFixed(0)} ms after validUntil`);
      assert.equal(membership.ended, true);
      // Once etcd runs again the lease is gone (expired, or revoked by the losing member).
      const deadline = performance.now() + 4000;
      while ((await observer.owners()).length > 0 && performance.now() < deadline) await sleep(50);
      assert.deepEqual(await observer.owners(), []);
      const rejoined = await store.join(nodeRecord('n1'), { ttlSec: 2 });
      assert.equal((await store.acquire('web', rejoined)).ok, true, 'the node rejoins and can own again');
      await rejoined.revoke();
    } finally {
      await cluster.cleanup();
    }
  });

  test('opening a store where no etcd listens fails fast with unavailable', async () => {
    const port = await freePort();
    const started = performance.now();
    await assert.rejects(EtcdStore.open({ endpoints: [`127.0.0.1:${port}`], callTimeoutMs: 1000 }), (error) => isStoreError(error, 'unavailable'));
    assert.ok(performance.now() - started < 3000);
  });
});

describe('records in etcd that are not what they claim to be', { timeout: 60_000 }, () => {
  test('are left out of every read and reported with key and reason; a put over a good record arrives as a delete that says why', async () => {
    const name = newClusterName();
    const cluster = clusterOn(name);
    // Anything that can write to etcd, as the unauthenticated etcdctl did.
    const raw = new Etcd3({ hosts: [`http://${server().endpoint}`] });
    try {
      const store = await cluster.connect();
      await store.putResource(resourceSpec('web', '10.213.7.10'));
      await store.putResource(resourceSpec('db', '10.213.7.11'));
      const changes: StoreChange[] = [];
      const unwatch = await store.watch((await store.snapshot()).revision, (change) => changes.push(change));
      const root = `ipfo/${name}/`;
      await raw.put(`${root}resources/evil`).value('{"name":"evil","ip":"10.77.0.5","prefix":24,"enabled":true}');
      await raw.put(`${root}resources/db`).value(JSON.stringify({ ...resourceSpec('db', '10.213.7.11'), ip: '224.0.0.1' }));
      await raw.put(`${root}owners/web`).value('"n1"'); // an owner key bound to no lease
      await raw.put(`${root}members/ghost`).value('{"leaseId":"1","joinedAt":1}');
      await raw.put(`${root}status/web`).value('not json');
      // A well-formed verdict bound to no lease: "healthy" for ever, even after the node died.
      await raw.put(`${root}health/n1`).value(JSON.stringify({ node: 'n1', results: [{ key: '0123456789abcdef', healthy: true, reason: 'forged', since: 1 }] }));
      const snapshot = await store.snapshot();
      assert.deepEqual(snapshot.resources.map((r) => r.spec.name), ['web']);
      assert.deepEqual(snapshot.owners, []);
      assert.deepEqual(snapshot.statuses, []);
      assert.deepEqual(snapshot.health, []);
      assert.deepEqual(
        (snapshot.rejected ?? []).map((r) => [r.key.slice(root.length), r.reason.split(':')[0]]).sort(),
        [['health/n1', 'health record not bound to a lease'], ['members/ghost', 'member key not bound to a lease'], ['owners/web', 'owner key not bound to a lease (an owner key lives only as long as its owner\'s lease)'], ['resources/db', 'ip'], ['resources/evil', 'possibleOwners'], ['status/web', 'not JSON']],
      );
      assert.deepEqual((await store.resources()).map((r) => r.spec.name), ['web'], 'the list reads leave them out too');
      assert.deepEqual(await store.owners(), []);
      const deadline = Date.now() + 5000;
      while (changes.length < 6 && Date.now() < deadline) await sleep(20);
      assert.deepEqual(
        changes.map((c) => [c.collection, c.name, c.kind, c.kind === 'delete' && c.rejected !== undefined]),
        [['resources', 'evil', 'delete', true], ['resources', 'db', 'delete', true], ['owners', 'web', 'delete', true], ['members', 'ghost', 'delete', true], ['status', 'web', 'delete', true], ['health', 'n1', 'delete', true]],
      );
      await unwatch();
      // The audit log's counter overwritten with garbage, and a hostile audit key: appends go on after the newest real entry.
      await store.appendAudit({ at: 1, actor: 't', action: 'a', target: null, outcome: 'ok', detail: null, handoffMs: null });
      await raw.put(`${root}meta/audit-seq`).value('NaN; rm -rf');
      await raw.put(`${root}audit/zzzz`).value('{}');
      const appended = await store.appendAudit({ at: 2, actor: 't', action: 'b', target: null, outcome: 'ok', detail: null, handoffMs: null });
      assert.equal(appended.seq, 2);
      assert.deepEqual((await store.audit()).map((e) => [e.seq, e.action]), [[1, 'a'], [2, 'b']]);
    } finally {
      raw.close();
      await cluster.cleanup();
    }
  });
});
