// The etcd store against a real etcd (Debian's etcd-server, started here on free loopback ports):
// the shared contract, then what only etcd brings - an etcd that stops and comes back, an etcd
// that hangs past the lease TTL, and an endpoint where nothing listens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
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
