// Named users on a real cluster (issue 12 §3): real agents on a real etcd in lab namespaces, driven
// by the real `ipfo` CLI. The node token (root, admin) adds users on n1; their credentials work on
// every agent (n2 here); each role may do exactly its part and the agent refuses the rest (exit 4,
// nothing changed); the audit log names the user from the credential; etcd holds no secret; a
// removed or rotated user is logged out at once, also from a running `events --follow`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLab, type Lab } from './lab';
import { LabCluster } from './cluster';
import { ipfoArgv } from './ipfo';
import { JsonLines } from './json-lines';

const AGENT = ['--agent', '127.0.0.1:7790'];

describe('named users and roles on a real cluster', { timeout: 240_000 }, () => {
  let lab: Lab;
  let cluster: LabCluster;
  let scratch: string;

  before(async () => {
    lab = await createLab({ nodes: 2, clients: 1, rogue: false, name: 'users' });
    cluster = await LabCluster.start(lab, { etcdHost: 'c1' });
    scratch = mkdtempSync(join(tmpdir(), 'ipfo-users-'));
  });
  after(async () => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await cluster?.destroy();
    await lab?.destroy();
  });

  /** `ipfo user add|rotate ... --json` with the node token on n1: the credential, saved 0600 like an administrator would. */
  async function issue(args: string[], file: string): Promise<{ user: { name: string; role: string }; credential: string; path: string }> {
    const run = await cluster.cli('n1', ['user', ...args, '--json']);
    assert.equal(run.code, 0, `ipfo user ${args.join(' ')}: ${run.stderr}`);
    const result = JSON.parse(run.stdout) as { user: { name: string; role: string }; credential: string };
    const path = join(scratch, file);
    writeFileSync(path, `${result.credential}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    return { ...result, path };
  }

  /** The CLI on `node` with a user's credential file. */
  const as = (node: string, credentialFile: string, args: readonly string[]) => lab.run(node, ipfoArgv([...args, ...AGENT, '--credential-file', credentialFile]), { timeoutMs: 60_000 });

  test('roles: a viewer reads, an operator moves, only an admin adds; refusals are exit 4 and change nothing', async () => {
    const vera = await issue(['add', 'vera', '--role', 'viewer'], 'vera.cred');
    const otto = await issue(['add', 'otto', '--role', 'operator'], 'otto.cred');
    assert.match(vera.credential, /^vera:[0-9a-f]{64}$/);
    const added = await cluster.cli('n1', ['resource', 'add', 'web', `${lab.vip(30)}/24`, '--preferred', 'n1']);
    assert.equal(added.code, 0, added.stderr);
    await cluster.waitOwner('n1', 'web', 'n1');

    // A user added through n1 logs in at n2: users are the cluster's, not a node's.
    const status = await as('n2', vera.path, ['status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    const viewerMove = await as('n2', vera.path, ['move', 'web', 'n2']);
    assert.equal(viewerMove.code, 4, viewerMove.stderr);
    assert.match(viewerMove.stderr, /vera has the viewer role; resource\.move needs operator or admin/);
    const operatorAdd = await as('n2', otto.path, ['resource', 'add', 'db', `${lab.vip(31)}/24`]);
    assert.equal(operatorAdd.code, 4, operatorAdd.stderr);
    assert.match(operatorAdd.stderr, /otto has the operator role; resource\.add needs admin/);
    const operatorUsers = await as('n2', otto.path, ['user', 'list']);
    assert.equal(operatorUsers.code, 4, 'an operator cannot list users');
    assert.equal((await cluster.status('n1')).resources.length, 1, 'the refused add created nothing');
    assert.equal((await cluster.status('n1')).resources[0]?.owner, 'n1', 'the refused move moved nothing');

    const moved = await as('n2', otto.path, ['move', 'web', 'n2']);
    assert.equal(moved.code, 0, moved.stderr);
    await cluster.waitOwner('n1', 'web', 'n2');

    // The audit log's actor is the credential's user at the peer the agent saw, not the CLI's label.
    const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() !== '');
    const events = await cluster.cli('n1', ['events', '--json', '--action', 'move']);
    const moves = lines(events.stdout).map((line) => JSON.parse(line) as { actor: string; target: string });
    assert.deepEqual(moves.map((entry) => [entry.actor, entry.target]), [['otto@127.0.0.1', 'web']]);
    const userEvents = await cluster.cli('n1', ['events', '--json', '--action', 'user.*']);
    assert.deepEqual(
      lines(userEvents.stdout).map((line) => JSON.parse(line) as { actor: string; action: string; target: string }).map((e) => [e.actor, e.action, e.target]),
      [['root@127.0.0.1', 'user.added', 'vera'], ['root@127.0.0.1', 'user.added', 'otto']],
    );
  });

  test('etcd keeps a verifier, never the secret; the list shows no secret either', async () => {
    const ada = await issue(['add', 'ada', '--role', 'admin'], 'ada.cred');
    const secret = ada.credential.split(':')[1]!;
    const stored = await cluster.etcd!.etcdctlOk(['get', '--prefix', 'ipfo/default/users/']);
    assert.match(stored, /"storedKey":"[0-9a-f]{64}"/);
    assert.ok(!stored.includes(secret), 'the secret is not in etcd');
    const list = await as('n1', ada.path, ['user', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes(secret) && !list.stdout.includes('storedKey'));
    const users = (JSON.parse(list.stdout) as { users: Array<{ name: string; role: string; createdBy: string }> }).users;
    assert.deepEqual(users.map((user) => [user.name, user.role, user.createdBy]), [['ada', 'admin', 'root@127.0.0.1'], ['otto', 'operator', 'root@127.0.0.1'], ['vera', 'viewer', 'root@127.0.0.1']]);
  });

  test('a credential file others can read is refused, not used', async () => {
    const run = await cluster.cli('n1', ['user', 'rotate', 'vera', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const open = join(scratch, 'open.cred');
    writeFileSync(open, `${(JSON.parse(run.stdout) as { credential: string }).credential}\n`);
    chmodSync(open, 0o644);
    const refused = await as('n1', open, ['status']);
    assert.equal(refused.code, 4, refused.stderr);
    assert.match(refused.stderr, /accessible by other users \(mode 644\)/);
  });

  test('removing a user ends its running session at once; rotating ends the old credential', async () => {
    const eve = await issue(['add', 'eve', '--role', 'viewer'], 'eve.cred');
    const follow = new JsonLines(lab.spawn('n2', ipfoArgv(['events', '--follow', '--json', '--limit', '0', ...AGENT, '--credential-file', eve.path]), { stdio: ['ignore', 'pipe', 'pipe'] }));
    try {
      // The follow is subscribed once it prints the entry of a change made after it started.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const removedAt = Date.now();
      const removed = await cluster.cli('n1', ['user', 'rm', 'eve']);
      assert.equal(removed.code, 0, removed.stderr);
      const exit = await Promise.race([follow.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000))]);
      assert.notEqual(exit, null, 'the follow of a removed user ended');
      assert.equal(exit?.code, 4);
      assert.match(follow.stderr, /4401 credential revoked or role changed/);
      assert.ok(Date.now() - removedAt < 5_000);
      const after = await as('n2', eve.path, ['status']);
      assert.equal(after.code, 4);
      assert.match(after.stderr, /does not accept the credential in .*eve\.cred/);
    } finally {
      follow.child.kill('SIGTERM');
      await follow.exited;
    }

    const otto = join(scratch, 'otto.cred');
    const rotated = await issue(['rotate', 'otto'], 'otto-new.cred');
    assert.equal(rotated.user.role, 'operator', 'rotating keeps the role');
    assert.equal((await as('n2', otto, ['status'])).code, 4, 'the old credential no longer works');
    assert.equal((await as('n2', rotated.path, ['status'])).code, 0, 'the new one does');
  });
});
