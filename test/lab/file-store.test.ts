// The file store: the shared contract, plus what only a file can promise - durability across
// kill -9 at random instants (a real child process, SIGKILLed mid-write), restarts, and the lock
// that keeps a second process out.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { FileStore } from '../../main/store/file-store';
import { AUDIT_FILE, STATE_FILE } from '../../main/store/file-persistence';
import { isStoreError, type ClusterStore, type StoreChange } from '../../main/store/store';
import { CONTRACT_TTL_SEC, nodeRecord, resourceSpec, runStoreContract, type ClusterHandle } from './store-contract';
import { userRecord } from '../fixtures/records';
import { stopChild } from './processes';

const WRITER = join(__dirname, 'file-store-writer.js');
const tempDirs = new Set<string>();

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ipfo-file-store-'));
  tempDirs.add(dir);
  return dir;
}

after(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

runStoreContract({
  name: 'file store',
  newCluster(options = {}): Promise<ClusterHandle> {
    const dir = tempDir();
    const handles: ClusterStore[] = [];
    return Promise.resolve({
      async connect() {
        const store = await FileStore.open({ dir, ...options });
        handles.push(store);
        return store;
      },
      async cleanup() {
        for (const handle of handles) await handle.close();
        rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
      },
    });
  },
});

interface Writer {
  child: ChildProcess;
  ready: Promise<{ nextResource: number; nextAudit: number }>;
  ackedResource: number;
  ackedAudit: number;
}

function startWriter(dir: string, retention: number): Writer {
  const child = spawn(process.execPath, [WRITER, dir, String(retention)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const writer: Writer = { child, ready: Promise.resolve({ nextResource: 0, nextAudit: 0 }), ackedResource: -1, ackedAudit: -1 };
  writer.ready = new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`writer exited early (${String(code ?? signal)}): ${stderr}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const [kind, first, second] = line.split(' ');
      if (kind === 'ready') resolve({ nextResource: Number(first), nextAudit: Number(second) });
      else if (kind === 'R') writer.ackedResource = Number(first);
      else if (kind === 'A') writer.ackedAudit = Number(first);
    });
  });
  return writer;
}

/** The directory as a fresh process would find it; checks it holds a prefix of the writes. */
async function verifyPrefix(dir: string, retention: number): Promise<{ resources: number; audits: number }> {
  const stateText = existsSync(join(dir, STATE_FILE)) ? readFileSync(join(dir, STATE_FILE), 'utf8') : null;
  if (stateText !== null) assert.doesNotThrow(() => JSON.parse(stateText), 'state.json always parses');
  const store = await FileStore.open({ dir, auditRetention: retention });
  try {
    const names = (await store.resources()).map((r) => r.spec.name);
    const expected = names.map((_, i) => `r${i}`);
    assert.deepEqual([...names].sort(), [...expected].sort(), 'resources are r0..rN without a hole');
    const audit = await store.audit();
    const last = audit[audit.length - 1];
    const audits = last === undefined ? 0 : last.seq;
    assert.deepEqual(
      audit.map((e) => [e.seq, e.action]),
      audit.map((_, i) => [audits - audit.length + 1 + i, `w${audits - audit.length + i}`]),
      'audit entries are the newest of w0..wN, numbered without gaps',
    );
    assert.equal(audit.length, Math.min(audits, retention), 'retention keeps exactly the newest entries');
    return { resources: names.length, audits };
  } finally {
    await store.close();
  }
}

describe('file store on disk', { timeout: 180_000 }, () => {
  test('kill -9 at random moments, 25 times: the files always parse and hold every acknowledged write, in order', async () => {
    const dir = tempDir();
    const retention = 40; // small, so the log is also rewritten (rotated) while being killed
    let previous = { resources: 0, audits: 0 };
    for (let round = 0; round < 25; round += 1) {
      const writer = startWriter(dir, retention);
      try {
        const start = await writer.ready;
        assert.deepEqual(start, { nextResource: previous.resources, nextAudit: previous.audits }, 'the next writer finds what the last one left');
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 180));
        writer.child.kill('SIGKILL');
        await stopChild(writer.child, 0);
      } finally {
        await stopChild(writer.child, 0); // only matters when an assertion failed before the kill
      }
      const found = await verifyPrefix(dir, retention);
      // Every acknowledged write survived; at most the one in flight may also have landed.
      assert.ok(found.resources >= writer.ackedResource + 1, `round ${round}: acknowledged resource r${writer.ackedResource} lost`);
      assert.ok(found.resources <= Math.max(writer.ackedResource + 2, previous.resources + 1), `round ${round}: more resources than written`);
      assert.ok(found.audits >= writer.ackedAudit + 1, `round ${round}: acknowledged audit w${writer.ackedAudit} lost`);
      assert.ok(found.audits <= Math.max(writer.ackedAudit + 2, previous.audits + 1), `round ${round}: more audit entries than written`);
      assert.ok(found.resources >= previous.resources && found.audits >= previous.audits, 'nothing acknowledged earlier disappears');
      previous = found;
      assert.deepEqual(
        readdirSync(dir).filter((name) => name.includes('.tmp-')),
        [],
        'temp files of interrupted writes are cleaned up on open',
      );
    }
    assert.ok(previous.resources > 25, `the writers made progress (${previous.resources} resources)`);
    process.stdout.write(`# kill -9 x25: ${previous.resources} resources and ${previous.audits} audit entries written, all acknowledged ones survived\n`);
    // The log is rewritten once it exceeds retention + 64 lines: that happened under the kills too.
    assert.ok(previous.audits > retention + 64, `the audit log was rotated during the test (${previous.audits} entries)`);
  });

  test('a restart keeps nodes, resources, status, intents, users and audit; members and owners end with the process', async () => {
    const dir = tempDir();
    const first = await FileStore.open({ dir });
    const membership = await first.join(nodeRecord('n1'), { ttlSec: CONTRACT_TTL_SEC });
    await first.setNodeState('n1', 'paused');
    const resourceRev = await first.putResource(resourceSpec('web'));
    await first.putStatus({ name: 'web', state: 'online', owner: 'n1', ownerMac: null, since: 1, failure: null, lastHandoffMs: 3 });
    await first.putIntent({ id: 'i1', kind: 'move', phase: 'requested', resource: 'web', fromNode: null, toNode: 'n1', actor: 't', createdAt: 1 });
    const userRev = await first.putUser(userRecord('alice', 'admin'));
    assert.equal((await first.acquire('web', membership)).ok, true);
    const entry = await first.appendAudit({ at: 1, actor: 't', action: 'a', target: 'web', outcome: 'ok', detail: 'x', handoffMs: 4 });
    const before = await first.snapshot();
    await first.close();

    const second = await FileStore.open({ dir });
    try {
      const after = await second.snapshot();
      assert.ok(after.revision >= before.revision, 'revisions never go back across a restart');
      assert.deepEqual(after.resources, [{ spec: resourceSpec('web'), revision: resourceRev }]);
      assert.deepEqual(after.statuses, before.statuses);
      assert.deepEqual(after.intents, before.intents);
      assert.deepEqual(after.users, [{ user: userRecord('alice', 'admin'), revision: userRev }]);
      assert.deepEqual(
        after.nodes.map((n) => [n.node.name, n.node.state, n.alive]),
        [['n1', 'paused', false]],
      );
      assert.deepEqual(after.owners, [], 'ownership needs a live lease');
      assert.deepEqual(await second.audit(), [entry]);
      const next = await second.putResource(resourceSpec('db', '10.213.7.30'));
      assert.ok(next > before.revision);
    } finally {
      await second.close();
    }
  });

  test('a second process cannot open a directory in use; it can once the holder is gone', async () => {
    const dir = tempDir();
    const writer = startWriter(dir, 100);
    try {
      await writer.ready;
      while (writer.ackedResource < 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await assert.rejects(FileStore.open({ dir }), (error: unknown) => isStoreError(error, 'locked') && /in use by process/.test(error.message));
    } finally {
      writer.child.kill('SIGKILL');
      await stopChild(writer.child, 0);
    }
    const store = await FileStore.open({ dir });
    assert.ok((await store.resources()).length > 0);
    await store.close();
    assert.equal(existsSync(join(dir, 'lock')), false, 'close releases the lock');
  });

  test('a torn audit line (a write cut short) is dropped on open and the log goes on', async () => {
    const dir = tempDir();
    const store = await FileStore.open({ dir });
    await store.appendAudit({ at: 1, actor: 't', action: 'kept', target: null, outcome: 'ok', detail: null, handoffMs: null });
    await store.close();
    const { appendFileSync } = await import('node:fs');
    appendFileSync(join(dir, AUDIT_FILE), '{"revision":99,"entry":{"seq":2,"at":1,"act');
    const reopened = await FileStore.open({ dir });
    try {
      assert.deepEqual(
        (await reopened.audit()).map((e) => e.action),
        ['kept'],
      );
      const next = await reopened.appendAudit({ at: 2, actor: 't', action: 'next', target: null, outcome: 'ok', detail: null, handoffMs: null });
      assert.equal(next.seq, 2);
      const lines = readFileSync(join(dir, AUDIT_FILE), 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 2);
      assert.doesNotThrow(() => lines.map((line) => JSON.parse(line) as unknown));
    } finally {
      await reopened.close();
    }
  });

  test('a watch from a revision older than the kept history is reset, not silently incomplete', async () => {
    const dir = tempDir();
    const store = await FileStore.open({ dir, watchHistory: 5 });
    try {
      const { revision } = await store.snapshot();
      for (let i = 0; i < 10; i += 1) await store.putResource(resourceSpec(`r${i}`));
      const resets: string[] = [];
      const changes: StoreChange[] = [];
      await store.watch(revision, (change) => changes.push(change), (reason) => resets.push(reason));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(resets.length, 1);
      assert.match(resets[0] ?? '', /new snapshot/);
      assert.deepEqual(changes, []);
      const recent: StoreChange[] = [];
      await store.watch(revision + 7, (change) => recent.push(change));
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(
        recent.map((c) => c.kind === 'put' && c.collection === 'resources' && c.value.name),
        ['r7', 'r8', 'r9'],
      );
    } finally {
      await store.close();
    }
  });
});
