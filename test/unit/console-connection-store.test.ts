// The console's remembered connections (main/console/connection-store.ts) on a real file system:
// several clusters, tokens kept 0600 in a 0700 directory, atomic writes, a symlink refused, a
// readable file made private again, a corrupt file set aside.
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConnectionStore, writePrivateFileAtomically, type NewConnection } from '../../main/console/connection-store';

const scratch = mkdtempSync(join(tmpdir(), 'ipfo-connections-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

let counter = 0;
function freshFile(): string {
  counter += 1;
  return join(scratch, `case-${counter}`, 'config', 'connections.json');
}

function cluster(n: number, extra: Partial<NewConnection> = {}): NewConnection {
  return { label: `cluster ${n}`, host: `node${n}.example.net`, port: 7790, tls: true, token: n.toString(16).padStart(2, '0').repeat(32), ca: null, ...extra };
}

describe('ConnectionStore', () => {
  test('remembers several clusters; the list carries no token, most recent first', async () => {
    let now = 1_000;
    const file = freshFile();
    const store = new ConnectionStore(file, () => now);
    const first = await store.remember(cluster(1));
    now = 2_000;
    const second = await store.remember(cluster(2, { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }));
    now = 3_000;
    await store.remember(cluster(3, { host: '127.0.0.1', tls: false }));
    const list = await store.list();
    assert.deepEqual(list.map((entry) => entry.label), ['cluster 3', 'cluster 2', 'cluster 1']);
    assert.deepEqual(list[1], { id: second.id, label: 'cluster 2', endpoint: 'wss://node2.example.net:7790/api', tls: true, hasCa: true, lastUsed: 2_000 });
    assert.equal(list[0]?.endpoint, 'ws://127.0.0.1:7790/api');
    assert.ok(!JSON.stringify(list).includes(cluster(1).token), 'no token in the list');
    assert.match(first.id, /^[0-9a-f]{16}$/);
    // A second store on the same file (the next start of the console) sees the same.
    assert.deepEqual(await new ConnectionStore(file).get(first.id), first);
  });

  test('the same host and port updates the entry (new token) and keeps its id', async () => {
    const store = new ConnectionStore(freshFile());
    const first = await store.remember(cluster(1));
    const again = await store.remember(cluster(1, { label: 'renamed', token: 'f'.repeat(64) }));
    assert.equal(again.id, first.id);
    assert.equal((await store.list()).length, 1);
    assert.equal((await store.get(first.id))?.token, 'f'.repeat(64));
  });

  test('a user\'s credential is remembered like a token; a file with something else is not a connection list', async () => {
    const file = freshFile();
    const store = new ConnectionStore(file);
    const vera = `vera:${'ab'.repeat(32)}`;
    const saved = await store.remember(cluster(1, { token: vera }));
    assert.equal((await new ConnectionStore(file).get(saved.id))?.token, vera);
    assert.ok(!JSON.stringify(await store.list()).includes('ab'.repeat(32)), 'no secret in the list');
    for (const bad of [`root:${'ab'.repeat(32)}`, `Vera:${'ab'.repeat(32)}`, ` ${vera}`, `vera:${'ab'.repeat(31)}`]) {
      await assert.rejects(store.remember(cluster(2, { token: bad })), Error, bad);
    }
    // A file edited to hold something else is set aside (as any invalid list), not used.
    writeFileSync(file, JSON.stringify({ version: 1, connections: [{ ...saved, token: `vera:${'ab'.repeat(32)};rm -rf /` }], local: null }), { mode: 0o600 });
    const fresh = new ConnectionStore(file);
    assert.deepEqual(await fresh.list(), []);
    assert.match(fresh.takeWarnings().join('\n'), /not a valid connection list/);
  });

  test('forget removes one; touch reorders', async () => {
    let now = 10;
    const store = new ConnectionStore(freshFile(), () => now);
    const a = await store.remember(cluster(1));
    now = 20;
    const b = await store.remember(cluster(2));
    now = 30;
    await store.touch(a.id);
    assert.deepEqual((await store.list()).map((entry) => entry.id), [a.id, b.id]);
    assert.equal(await store.forget(b.id), true);
    assert.equal(await store.forget(b.id), false);
    assert.deepEqual((await store.list()).map((entry) => entry.id), [a.id]);
  });

  test('the file is 0600 in a 0700 directory, and no temp file is left behind', async () => {
    const file = freshFile();
    const store = new ConnectionStore(file);
    await store.remember(cluster(1));
    await store.setLocalToken(7790, 'c'.repeat(64));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(file, '..')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(file, '..')), ['connections.json']);
    assert.equal(await store.localToken(7790), 'c'.repeat(64));
    assert.equal(await store.localToken(7791), null, 'a token for another port is not this agent\'s');
    await store.setLocalToken(7790, null);
    assert.equal(await store.localToken(7790), null);
  });

  test('concurrent changes are applied one after another, none lost', async () => {
    const store = new ConnectionStore(freshFile());
    await Promise.all(Array.from({ length: 12 }, (_, index) => store.remember(cluster(index + 1))));
    assert.equal((await store.list()).length, 12);
  });

  test('a file others can read is made private again, with a warning', async () => {
    const file = freshFile();
    const store = new ConnectionStore(file);
    await store.remember(cluster(1));
    chmodSync(file, 0o644);
    assert.equal((await store.list()).length, 1);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const warnings = store.takeWarnings();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /readable by other users .*0600/);
  });

  test('a symlink planted at the file\'s name is refused, not followed', async () => {
    const file = freshFile();
    mkdirSync(join(file, '..'), { recursive: true });
    const elsewhere = join(scratch, `elsewhere-${counter}.json`);
    writeFileSync(elsewhere, JSON.stringify({ version: 1, connections: [], local: null }));
    symlinkSync(elsewhere, file);
    await assert.rejects(new ConnectionStore(file).list(), /symbolic link/);
    assert.ok(lstatSync(file).isSymbolicLink());
  });

  test('a corrupt file is set aside, not overwritten, and the list starts empty', async () => {
    let now = 5;
    const file = freshFile();
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(file, '{"version": 1, "connections": [{"id": "nope"}]', { mode: 0o600 });
    const store = new ConnectionStore(file, () => now);
    assert.deepEqual(await store.list(), []);
    assert.equal(readFileSync(`${file}.corrupt-5`, 'utf8'), '{"version": 1, "connections": [{"id": "nope"}]');
    assert.match(store.takeWarnings()[0] ?? '', /moved it to .*corrupt-5/);
    now = 6;
    await store.remember(cluster(1));
    assert.equal((await store.list()).length, 1);
  });
});

describe('writePrivateFileAtomically', () => {
  test('replaces the whole file or nothing: a failed rename leaves the old content and no temp file', async () => {
    const directory = join(scratch, 'atomic');
    mkdirSync(join(directory, 'target-is-a-directory'), { recursive: true });
    writeFileSync(join(directory, 'target-is-a-directory', 'keep'), 'old');
    await assert.rejects(writePrivateFileAtomically(join(directory, 'target-is-a-directory'), 'new'));
    assert.equal(readFileSync(join(directory, 'target-is-a-directory', 'keep'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(directory), ['target-is-a-directory'], 'the temp file was removed');
    await writePrivateFileAtomically(join(directory, 'file.json'), 'one');
    await writePrivateFileAtomically(join(directory, 'file.json'), 'two');
    assert.equal(readFileSync(join(directory, 'file.json'), 'utf8'), 'two');
    assert.equal(statSync(join(directory, 'file.json')).mode & 0o777, 0o600);
  });
});
