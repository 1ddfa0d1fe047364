// Agents on a secured etcd (docs/security.md): a real etcd in a lab namespace, real `ipfo agent`
// processes in the node namespaces. (a) etcd with TLS and --client-cert-auth: agents with the CA and a
// client certificate join, serve and move an address; without a client certificate, with one of
// another CA, or with the wrong CA they stop at start with exit 4 and one line. (b) etcd with RBAC
// (`etcdctl user add`, a role with readwrite on ipfo/default/, `auth enable`) over TLS: agents with
// --store-user and --store-password-file join and fail over; a wrong password, no user, a user without
// the prefix or with read only: exit 4 and one line; a password file others can read: exit 2.
// Certificates are made by openssl in a temp dir (test/lab/etcd-certs.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { runIpfo } from './ipfo';
import { makeEtcdCertificates, type EtcdCertificates } from './etcd-certs';
import type { EtcdServer } from './etcd';

const ETCD_HOST = 'c1';

/**
 * One `ipfo agent` run that must stop at start: its exit code and its stderr, which must be one line
 * (no stack trace) and nothing on stdout but JSON log lines. Run on n2 under a node name of its own
 * (n9) with its own token and state, so that it touches nothing of the running cluster.
 */
async function refusedStart(lab: Lab, cluster: LabCluster, scratch: string, args: readonly string[]): Promise<{ code: number | null; line: string; ms: number }> {
  const started = Date.now();
  const result = await runIpfo(lab, 'n2', ['agent', '--node', 'n9', '--store', cluster.store, '--api', '127.0.0.1:7799', '--token-file', join(scratch, 'n9.token'), '--state-dir', join(scratch, 'n9-state'), '--json', ...args], 30_000);
  const ms = Date.now() - started;
  assert.equal(result.timedOut, false, `ipfo agent ${args.join(' ')} gave up by itself (no endless retry)`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${result.stderr}`);
  assert.match(lines[0]!, /^ipfo: \S/);
  assert.doesNotMatch(result.stderr, /\n\s+at |DeprecationWarning/);
  assert.doesNotMatch(result.stdout, /"event":"listening"/);
  return { code: result.code, line: lines[0]!, ms };
}

/** The address `web` on n1, then moved to n2 (planned) and, with `failover`, back to n1 after n2 is killed. */
async function exerciseCluster(lab: Lab, cluster: LabCluster, vipIndex: number, failover: boolean): Promise<void> {
  const status = await cluster.status('n1');
  assert.deepEqual(status.nodes.map((n) => [n.name, n.state]).sort(), [['n1', 'up'], ['n2', 'up']], JSON.stringify(status.nodes));
  const added = await cluster.api('n1', 'resource.add', { spec: { name: 'web', ip: `${lab.vip(vipIndex)}/24`, preferredOwners: ['n1'] } });
  assert.equal(added.ok, true, JSON.stringify(added));
  await cluster.waitOwner('n1', 'web', 'n1');
  assert.ok((await lab.addresses('n1')).includes(`${lab.vip(vipIndex)}/24`));
  const moved = await cluster.api('n2', 'resource.move', { name: 'web', target: 'n2' });
  assert.equal(moved.ok, true, JSON.stringify(moved));
  await cluster.waitOwner('n1', 'web', 'n2');
  if (failover) {
    await cluster.killAgent('n2');
    await cluster.waitOwner('n1', 'web', 'n1', 20_000);
  }
  for (const [node, agent] of cluster.agents) assert.doesNotMatch(agent.stderr, /DeprecationWarning|Error/, `agent ${node} stderr: ${agent.stderr}`);
}

/** Asks n1 to move `resource` to `target` until the cluster accepts it (within 20 s), as an operator would after an outage. */
async function moveOnceAccepted(cluster: LabCluster, resource: string, target: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let moved = await cluster.api('n1', 'resource.move', { name: resource, target });
  while (!moved.ok && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    moved = await cluster.api('n1', 'resource.move', { name: resource, target });
  }
  assert.equal(moved.ok, true, JSON.stringify(moved));
}

describe('agents on a secured etcd', { timeout: 240_000 }, () => {
  let lab: Lab;
  let certs: EtcdCertificates;
  let scratch: string;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: false, name: 'etcd-secure' });
    certs = await makeEtcdCertificates([lab.host(ETCD_HOST).ip, '127.0.0.1']);
    scratch = mkdtempSync(join(tmpdir(), 'ipfo-etcd-secure-'));
  });
  after(async () => {
    certs?.remove();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await lab?.destroy();
  });

  describe('(a) etcd with TLS and --client-cert-auth', () => {
    let cluster: LabCluster;
    before(async () => {
      cluster = await LabCluster.start(lab, {
        etcdHost: ETCD_HOST,
        etcdTls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, clientCertAuth: true, ctlCert: certs.clientCert, ctlKey: certs.clientKey },
        agentArgs: ['--store-ca', certs.ca, '--store-cert', certs.clientCert, '--store-key', certs.clientKey],
      });
    });
    after(async () => {
      await cluster?.destroy();
    });

    test('agents with the CA and a client certificate join over https and move an address', async () => {
      assert.match(cluster.etcd!.clientUrl, /^https:/);
      await exerciseCluster(lab, cluster, 1, false);
      // And what they wrote is in that etcd.
      const keys = await cluster.etcd!.etcdctlOk(['get', '--prefix', '--keys-only', 'ipfo/default/nodes/']);
      assert.deepEqual(keys.split('\n').filter((k) => k !== '').sort(), ['ipfo/default/nodes/n1', 'ipfo/default/nodes/n2']);
    });

    test('without a client certificate: exit 4, "it wants a client certificate"', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca]);
      assert.equal(run.code, 4, run.line);
      assert.match(run.line, new RegExp(`^ipfo: etcd at https://${lab.host(ETCD_HOST).ip.replaceAll('.', '\\.')}:2379 rejected the TLS handshake \\(.*\\): it wants a client certificate: give --store-cert and --store-key`));
    });

    test('with a client certificate of another CA: exit 4, "does not accept the client certificate"', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca, '--store-cert', certs.otherClientCert, '--store-key', certs.otherClientKey]);
      assert.equal(run.code, 4, run.line);
      assert.match(run.line, /rejected the TLS handshake \(.*\): it does not accept the client certificate in --store-cert/);
    });

    test('with the wrong CA: exit 4, "cannot verify the TLS certificate of etcd"', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.otherCa, '--store-cert', certs.clientCert, '--store-key', certs.clientKey]);
      assert.equal(run.code, 4, run.line);
      assert.match(run.line, /^ipfo: cannot verify the TLS certificate of etcd at https:\/\/.*: --store-ca must name the CA that signed it/);
    });

    test('without TLS at all: cannot reach it, with the hint to give --store-ca', async () => {
      const run = await refusedStart(lab, cluster, scratch, []);
      assert.equal(run.code, 1, run.line);
      assert.match(run.line, /^ipfo: cannot reach etcd at http:\/\/.* \(if etcd serves TLS there, give --store-ca\)$/);
    });

    test('a key that is not the certificate\'s: exit 2 before anything is dialled', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca, '--store-cert', certs.clientCert, '--store-key', certs.otherClientKey]);
      assert.equal(run.code, 2, run.line);
      assert.match(run.line, /^ipfo: --store-key .*other-client\.key: is not the key of the certificate in .*client\.crt$/);
    });
  });

  describe('(b) etcd with users and roles (RBAC), over TLS', () => {
    let cluster: LabCluster;
    const password = (name: string, text: string, mode = 0o600): string => {
      const file = join(scratch, name);
      writeFileSync(file, text, { mode });
      chmodSync(file, mode);
      return file;
    };

    /** What docs/security.md tells an operator to run, with the agents' role on their cluster's prefix. */
    async function setUpRbac(etcd: EtcdServer): Promise<void> {
      await etcd.etcdctlOk(['user', 'add', 'root', '--new-user-password=root-secret']);
      await etcd.etcdctlOk(['user', 'grant-role', 'root', 'root']);
      await etcd.etcdctlOk(['role', 'add', 'ipfo-agent']);
      await etcd.etcdctlOk(['role', 'grant-permission', 'ipfo-agent', '--prefix=true', 'readwrite', 'ipfo/default/']);
      await etcd.etcdctlOk(['user', 'add', 'ipfo', '--new-user-password=agent-secret']);
      await etcd.etcdctlOk(['user', 'grant-role', 'ipfo', 'ipfo-agent']);
      // A user of another application (another prefix), and one that may only read the cluster.
      await etcd.etcdctlOk(['role', 'add', 'billing']);
      await etcd.etcdctlOk(['role', 'grant-permission', 'billing', '--prefix=true', 'readwrite', 'billing/']);
      await etcd.etcdctlOk(['user', 'add', 'billing', '--new-user-password=billing-secret']);
      await etcd.etcdctlOk(['user', 'grant-role', 'billing', 'billing']);
      await etcd.etcdctlOk(['role', 'add', 'ipfo-reader']);
      await etcd.etcdctlOk(['role', 'grant-permission', 'ipfo-reader', '--prefix=true', 'read', 'ipfo/default/']);
      await etcd.etcdctlOk(['user', 'add', 'reader', '--new-user-password=reader-secret']);
      await etcd.etcdctlOk(['user', 'grant-role', 'reader', 'ipfo-reader']);
      await etcd.etcdctlOk(['auth', 'enable']);
      etcd.useCtlUser('root:root-secret');
    }

    before(async () => {
      cluster = await LabCluster.start(lab, {
        etcdHost: ETCD_HOST,
        etcdTls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey, clientCertAuth: false },
        prepareEtcd: setUpRbac,
        agentArgs: ['--store-ca', certs.ca, '--store-user', 'ipfo', '--store-password-file', password('agent-password', 'agent-secret\n')],
      });
    });
    after(async () => {
      await cluster?.destroy();
    });

    test('agents with --store-user and --store-password-file join, move an address and fail over', async () => {
      // Authentication is really on: etcdctl without a user is turned away.
      cluster.etcd!.useCtlUser(null);
      const anonymous = await cluster.etcd!.etcdctl(['get', 'ipfo/default/nodes/n1']);
      cluster.etcd!.useCtlUser('root:root-secret');
      assert.notEqual(anonymous.code, 0, 'etcd refuses a client without a user');
      await exerciseCluster(lab, cluster, 2, true);
    });

    test('etcd restarted (its login tokens die with it): the agents log in again and still move the address', async () => {
      await cluster.startAgent('n2');
      await cluster.etcd!.stop();
      await cluster.etcd!.start();
      await moveOnceAccepted(cluster, 'web', 'n2');
      await cluster.waitOwner('n2', 'web', 'n2');
      const status = await cluster.status('n2');
      assert.deepEqual(status.nodes.map((n) => [n.name, n.state]).sort(), [['n1', 'up'], ['n2', 'up']], JSON.stringify(status.nodes));
      for (const node of ['n1', 'n2']) assert.equal(cluster.agent(node).child.exitCode, null, `agent ${node} still runs: ${cluster.agent(node).stderr}`);
    });

    test('the role loses its permission while the agents run: each says once why etcd refuses it, runs on, and works again once it is back', async () => {
      const etcd = cluster.etcd!;
      const said = (node: string): number => cluster.agent(node).records.filter((r) => /the cluster store refuses this agent: .*permission denied to user "ipfo" on ipfo\/default\//.test(String(r.message))).length;
      await etcd.etcdctlOk(['role', 'revoke-permission', 'ipfo-agent', '--prefix=true', 'ipfo/default/']);
      try {
        const refused = await cluster.api('n1', 'resource.move', { name: 'web', target: 'n1' });
        assert.equal(refused.ok, false);
        assert.equal(refused.code, 'unavailable', JSON.stringify(refused));
        assert.match(String(refused.message), /refuses this agent: .*permission denied.*grant its role readwrite/);
        // The agents' own writes (statuses, bindings) meet it too; wait, then count what they said.
        await cluster.agent('n1').waitFor((r) => /the cluster store refuses this agent/.test(String(r.message)), 15_000, 'n1 saying etcd refuses it');
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        assert.equal(said('n1'), 1, `said once, not once per resource and per second: ${cluster.agent('n1').records.filter((r) => /refuses/.test(String(r.message))).map((r) => String(r.message)).join(' | ')}`);
      } finally {
        await etcd.etcdctlOk(['role', 'grant-permission', 'ipfo-agent', '--prefix=true', 'readwrite', 'ipfo/default/']);
      }
      for (const node of ['n1', 'n2']) assert.equal(cluster.agent(node).child.exitCode, null, `agent ${node} still runs: ${cluster.agent(node).stderr}`);
      await moveOnceAccepted(cluster, 'web', 'n1');
      await cluster.waitOwner('n2', 'web', 'n1');
    });

    test('a wrong password: exit 4, "authentication failed"', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca, '--store-user', 'ipfo', '--store-password-file', password('wrong', 'not-it\n')]);
      assert.equal(run.code, 4, run.line);
      assert.match(run.line, /^ipfo: etcd at https:\/\/.*:2379 refused user "ipfo": authentication failed \(wrong user name or password\): check --store-user and the password in --store-password-file$/);
    });

    test('no user: exit 4, "has authentication enabled"', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca]);
      assert.equal(run.code, 4, run.line);
      assert.match(run.line, /has authentication enabled and the agent gave no user: give --store-user and --store-password-file \(an etcd user with readwrite on ipfo\/default\/\)$/);
    });

    test('a user whose role lacks the prefix, or may only read it: exit 4, "permission denied" and the grant to make', async () => {
      for (const [user, secret] of [['billing', 'billing-secret'], ['reader', 'reader-secret']] as const) {
        const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca, '--store-user', user, '--store-password-file', password(`${user}-password`, secret)]);
        assert.equal(run.code, 4, run.line);
        assert.match(run.line, new RegExp(`: permission denied to user "${user}" on ipfo/default/: grant its role readwrite on that prefix \\(etcdctl role grant-permission <role> --prefix=true readwrite ipfo/default/\\)$`));
      }
      // The access check (a transaction that cannot succeed) wrote nothing.
      assert.equal((await cluster.etcd!.etcdctlOk(['get', '--keys-only', 'ipfo/default/meta/access-check'])).trim(), '');
    });

    test('a password file others can read: exit 2, and the fix', async () => {
      const file = password('open-password', 'agent-secret\n', 0o644);
      const run = await refusedStart(lab, cluster, scratch, ['--store-ca', certs.ca, '--store-user', 'ipfo', '--store-password-file', file]);
      assert.equal(run.code, 2, run.line);
      assert.equal(run.line, `ipfo: --store-password-file ${file}: is accessible by other users (mode 644): run chmod 600 ${file}`);
    });

    test('a password over plain http to another host is refused before anything is dialled: exit 2', async () => {
      const run = await refusedStart(lab, cluster, scratch, ['--store-user', 'ipfo', '--store-password-file', password('agent-password-2', 'agent-secret')]);
      assert.equal(run.code, 2, run.line);
      assert.match(run.line, /^ipfo: --store-user would send the etcd password in the clear to 10\.213\.\d+\.\d+:2379: add --store-ca/);
    });
  });
});
