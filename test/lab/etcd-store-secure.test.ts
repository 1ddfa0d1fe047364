// The whole store contract on a secured etcd, the store opened exactly as `ipfo agent` opens it
// (loadStoreAccess on the files, then openStore): TLS with --client-cert-auth and, at the same time,
// etcd users with a role that has readwrite on ipfo/ only. Every operation the agents use (leases and
// their revocation, transactions, watches, the audit log's trimming) must pass etcd's permission checks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStoreAccess, type StoreAccessFiles } from '../../main/store/etcd-access';
import { openStore } from '../../main/store/open';
import { isStoreError, type ClusterStore } from '../../main/store/store';
import { EtcdServer } from './etcd';
import { makeEtcdCertificates, type EtcdCertificates } from './etcd-certs';
import { nodeRecord, runStoreContract, type ClusterHandle } from './store-contract';

let etcd: EtcdServer | null = null;
let certs: EtcdCertificates | null = null;
let passwordDir: string | null = null;
let clusterCounter = 0;

function files(): StoreAccessFiles {
  if (certs === null || passwordDir === null) throw new Error('not set up');
  return { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, user: 'ipfo', passwordFile: join(passwordDir, 'password') };
}

before(async () => {
  certs = await makeEtcdCertificates(['127.0.0.1']);
  passwordDir = mkdtempSync(join(tmpdir(), 'ipfo-etcd-password-'));
  writeFileSync(join(passwordDir, 'password'), 'contract-secret\n', { mode: 0o600 });
  chmodSync(join(passwordDir, 'password'), 0o600);
  etcd = await EtcdServer.launch({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, clientCertAuth: true, ctlCert: certs.clientCert, ctlKey: certs.clientKey } });
  for (const args of [
    ['user', 'add', 'root', '--new-user-password=root-secret'],
    ['user', 'grant-role', 'root', 'root'],
    ['role', 'add', 'ipfo-agent'],
    ['role', 'grant-permission', 'ipfo-agent', '--prefix=true', 'readwrite', 'ipfo/'],
    ['user', 'add', 'ipfo', '--new-user-password=contract-secret'],
    ['user', 'grant-role', 'ipfo', 'ipfo-agent'],
    ['auth', 'enable'],
  ]) await etcd.etcdctlOk(args);
  etcd.useCtlUser('root:root-secret');
});

after(async () => {
  const started = etcd;
  etcd = null;
  await started?.destroy();
  if (started !== null) assert.equal(existsSync(started.dataDir), false);
  certs?.remove();
  if (passwordDir !== null) rmSync(passwordDir, { recursive: true, force: true });
});

async function openAsTheAgent(cluster: string, options: { auditRetention?: number } = {}): Promise<ClusterStore> {
  if (etcd === null) throw new Error('etcd is not running');
  return openStore(`etcd://${etcd.endpoint}`, { cluster, ...options, ...(await loadStoreAccess(files())) });
}

function clusterOn(cluster: string, options: { auditRetention?: number } = {}): ClusterHandle {
  const connections: ClusterStore[] = [];
  return {
    async connect() {
      const store = await openAsTheAgent(cluster, options);
      connections.push(store);
      return store;
    },
    async cleanup() {
      for (const store of connections) await store.close();
    },
  };
}

runStoreContract({
  name: 'etcd store over TLS with client certificates and an etcd user',
  newCluster: (options = {}) => {
    clusterCounter += 1;
    return Promise.resolve(clusterOn(`s${process.pid}-${clusterCounter}`, options));
  },
});

describe('the same etcd: the certificate as the user, and a role without the prefix', () => {
  test('with --client-cert-auth, the client certificate\'s CN is the etcd user: no password needed', async () => {
    const store = await openStore(`etcd://${etcd!.endpoint}`, { cluster: 'cn-check', ...(await loadStoreAccess({ ...files(), user: null, passwordFile: null })) });
    try {
      const membership = await store.join(nodeRecord('n1'), { ttlSec: 2 });
      assert.deepEqual((await store.nodes()).map((entry) => entry.node.name), ['n1']);
      await store.revokeMembership(membership.leaseId);
    } finally {
      await store.close();
    }
  });

  test('once the role loses the prefix: refused at open, "permission denied", nothing written', async () => {
    await etcd!.etcdctlOk(['role', 'revoke-permission', 'ipfo-agent', '--prefix=true', 'ipfo/']);
    try {
      await assert.rejects(openAsTheAgent('after-revoke'), (error) => isStoreError(error, 'refused') && /: permission denied to user "ipfo" on ipfo\/after-revoke\/: grant its role readwrite/.test(error.message));
    } finally {
      await etcd!.etcdctlOk(['role', 'grant-permission', 'ipfo-agent', '--prefix=true', 'readwrite', 'ipfo/']);
    }
    assert.equal((await etcd!.etcdctlOk(['get', '--prefix', '--keys-only', 'ipfo/after-revoke/'])).trim(), '');
  });
});
