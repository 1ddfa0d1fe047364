// Pure parts of the cluster store: the file store's in-memory state (revisions, leases, audit
// retention, what goes to disk), the audit-log parser's handling of torn tails, the etcd key
// layout, value decoding and store locations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FileState, STATE_FORMAT, type AuditLine, type DiskState } from '../../main/store/file-state';
import { formatAuditLines, parseAuditLog } from '../../main/store/file-persistence';
import { KeyLayout, checkName, padSeq, prefixEnd } from '../../main/store/keys';
import { decodeOwnerNode, decodeValue, encodeOwnerNode } from '../../main/store/codec';
import { parseStoreLocation } from '../../main/store/open';
import { StoreError, isStoreError, type AuditRecord } from '../../main/store/store';
import type { NodeRecord, ResourceSpec } from '../../main/cluster/model';
import { nodeRecord, resourceSpec, userRecord } from '../fixtures/records';

const node = (name: string): NodeRecord => nodeRecord(name);
const spec = (name: string): ResourceSpec => resourceSpec(name, '10.213.1.1');
const record = (action: string): AuditRecord => ({ at: 1, actor: 'u', action, target: null, outcome: 'ok', detail: null, handoffMs: null });

test('FileState: one revision per commit, create and mod revisions per key', () => {
  const state = new FileState(10, 'x');
  const first = state.commit([
    { collection: 'resources', name: 'a', value: spec('a') },
    { collection: 'resources', name: 'b', value: spec('b') },
  ]);
  assert.equal(first.revision, 1);
  assert.equal(first.persistent, true);
  assert.deepEqual(
    first.changes.map((c) => [c.revision, c.kind, c.name]),
    [
      [1, 'put', 'a'],
      [1, 'put', 'b'],
    ],
  );
  state.commit([{ collection: 'resources', name: 'a', value: { ...spec('a'), prefix: 16 } }]);
  assert.deepEqual(
    [state.get('resources', 'a')?.createRevision, state.get('resources', 'a')?.modRevision],
    [1, 2],
  );
  const nothing = state.commit([{ collection: 'resources', name: 'absent', value: null }]);
  assert.deepEqual(nothing, { revision: 2, changes: [], persistent: false }, 'deleting nothing uses no revision');
  assert.equal(state.revision, 2);
});

test('FileState: a lease owns its keys; revoking deletes them all in one revision; a key re-bound to another lease stays', () => {
  const state = new FileState(10, 'x');
  const l1 = state.grantLease();
  const l2 = state.grantLease();
  assert.notEqual(l1, l2);
  state.commit([
    { collection: 'members', name: 'n1', value: { leaseId: l1, joinedAt: 1 }, lease: l1 },
    { collection: 'owners', name: 'web', value: { node: 'n1', leaseId: l1 }, lease: l1 },
    { collection: 'owners', name: 'db', value: { node: 'n1', leaseId: l1 }, lease: l1 },
  ]);
  const moved = state.commit([{ collection: 'owners', name: 'db', value: { node: 'n1', leaseId: l2 }, lease: l2 }]);
  assert.equal(moved.persistent, false, 'leased keys never need a disk write');
  const revoked = state.revokeLease(l1);
  assert.ok(revoked !== null);
  assert.deepEqual(
    revoked.changes.map((c) => `${c.revision} ${c.kind} ${c.collection}/${c.name}`),
    ['3 delete members/n1', '3 delete owners/web'],
  );
  assert.equal(state.get('owners', 'db')?.lease, l2);
  assert.equal(state.revokeLease(l1), null, 'a lease ends once');
  assert.throws(
    () => state.commit([{ collection: 'owners', name: 'x', value: { node: 'n1', leaseId: l1 }, lease: l1 }]),
    (error) => isStoreError(error, 'lease-lost'),
  );
});

test('FileState: disk image leaves out leased keys and round-trips the rest', () => {
  const state = new FileState(3, 'x');
  const lease = state.grantLease();
  state.commit([
    { collection: 'nodes', name: 'n1', value: node('n1') },
    { collection: 'members', name: 'n1', value: { leaseId: lease, joinedAt: 1 }, lease },
    { collection: 'resources', name: 'web', value: spec('web') },
    { collection: 'owners', name: 'web', value: { node: 'n1', leaseId: lease }, lease },
    { collection: 'users', name: 'alice', value: userRecord('alice') },
  ]);
  const lines: AuditLine[] = [];
  for (const action of ['a', 'b', 'c', 'd']) lines.push(state.appendAudit(record(action)).line);
  const disk = JSON.parse(JSON.stringify(state.toDisk())) as DiskState;
  assert.deepEqual(Object.keys(disk.entries).sort(), ['bindings', 'hooks', 'hookstate', 'intents', 'nodes', 'resources', 'status', 'users']);
  assert.deepEqual(Object.keys(disk.entries.nodes), ['n1']);
  const loaded = FileState.fromDisk(disk, lines, 3, 'y');
  assert.equal(loaded.revision, state.revision, 'the newest audit line carries the latest revision');
  assert.deepEqual(loaded.get('resources', 'web'), state.get('resources', 'web'));
  assert.deepEqual(loaded.get('users', 'alice'), state.get('users', 'alice'));
  assert.equal(loaded.get('owners', 'web'), undefined);
  assert.equal(loaded.get('members', 'n1'), undefined);
  assert.deepEqual(
    loaded.retainedAudit().map((l) => l.entry.seq),
    [2, 3, 4],
  );
  assert.equal(loaded.appendAudit(record('e')).line.entry.seq, 5, 'numbering continues');
  assert.throws(() => FileState.fromDisk({ ...disk, format: 'other' as typeof STATE_FORMAT }, [], 3, 'z'), (error) => isStoreError(error, 'corrupt'));
});

test('FileState: a record in the state file that is not one is left out at load and reported; the others load', () => {
  const state = new FileState(3, 'x');
  state.commit([
    { collection: 'resources', name: 'web', value: spec('web') },
    { collection: 'resources', name: 'db', value: spec('db') },
  ]);
  const disk = JSON.parse(JSON.stringify(state.toDisk())) as DiskState;
  // Edited by hand (or by someone else): the record without its lists, and a multicast address.
  disk.entries.resources.evil = { value: { name: 'evil', ip: '10.77.0.5', prefix: 24, enabled: true }, create: 2, mod: 2 };
  (disk.entries.resources.db!.value as { ip: string }).ip = '224.0.0.1';
  const loaded = FileState.fromDisk(disk, [], 3, 'y');
  assert.deepEqual(loaded.get('resources', 'web')?.value, spec('web'));
  assert.equal(loaded.get('resources', 'db'), undefined);
  assert.equal(loaded.get('resources', 'evil'), undefined);
  assert.deepEqual(loaded.rejectedAtLoad.map((r) => [r.key, r.revision]).sort(), [['resources/db', 1], ['resources/evil', 2]]);
  assert.match(loaded.rejectedAtLoad.find((r) => r.name === 'db')?.reason ?? '', /multicast/);
});

test('FileState: audit retention deletes the oldest entries in the same revision as the append', () => {
  const state = new FileState(2, 'x');
  state.appendAudit(record('a'));
  state.appendAudit(record('b'));
  const { commit } = state.appendAudit(record('c'));
  assert.deepEqual(
    commit.changes.map((c) => `${c.revision} ${c.kind} ${c.name}`),
    ['3 put 3', '3 delete 1'],
  );
  assert.deepEqual(
    state.retainedAudit().map((l) => l.entry.action),
    ['b', 'c'],
  );
});

test('audit log parser: keeps intact lines, cuts a torn or garbage tail, skips a repeated line', () => {
  const lines: AuditLine[] = [1, 2, 3].map((seq) => ({ revision: seq * 10, entry: { ...record(`a${seq}`), seq } }));
  const text = formatAuditLines(lines);
  assert.deepEqual(parseAuditLog(text, 'log').lines, lines);
  assert.equal(parseAuditLog(text, 'log').intactBytes, Buffer.byteLength(text));
  const torn = `${text}{"revision":40,"entry":{"seq":4`;
  assert.deepEqual(parseAuditLog(torn, 'log'), { lines, intactBytes: Buffer.byteLength(text) });
  const garbage = `${formatAuditLines(lines.slice(0, 2))}\0\0\0\0\n${formatAuditLines(lines.slice(2))}`;
  assert.equal(parseAuditLog(garbage, 'log').lines.length, 2, 'nothing after garbage is trusted');
  const repeated = formatAuditLines([lines[0] as AuditLine, lines[1] as AuditLine, lines[1] as AuditLine, lines[2] as AuditLine]);
  assert.deepEqual(parseAuditLog(repeated, 'log').lines, lines);
  assert.deepEqual(parseAuditLog('', 'log'), { lines: [], intactBytes: 0 });
});

test('key layout: collection keys, parse, audit keys that sort like their seq, prefix range end', () => {
  const keys = new KeyLayout('prod');
  assert.equal(keys.key('owners', 'web'), 'ipfo/prod/owners/web');
  assert.deepEqual(keys.parse('ipfo/prod/members/n1'), { collection: 'members', name: 'n1' });
  assert.equal(keys.parse('ipfo/prod/meta/audit-seq'), null, 'bookkeeping keys are not entries');
  assert.equal(keys.parse('ipfo/other/nodes/n1'), null);
  assert.ok(keys.auditKey(9) < keys.auditKey(10));
  assert.equal(padSeq(42).length, 16);
  assert.equal(prefixEnd('ipfo/prod/').toString(), 'ipfo/prod0');
  assert.deepEqual([...prefixEnd('a\u00ff')], [0x61, 0xc3, 0xc0], 'bytes, not characters: ÿ is c3 bf in UTF-8');
  for (const bad of ['', 'a/b', 'a b', 'tab\t', '..', 'x'.repeat(254)]) {
    assert.throws(() => checkName('node', bad), (error) => error instanceof StoreError && error.code === 'invalid', JSON.stringify(bad));
  }
  assert.equal(checkName('node', 'node-1.example_2'), 'node-1.example_2');
});

test('values: decoding names the key of a value this version did not write', () => {
  assert.equal(decodeValue('nodes', 'k', JSON.stringify(node('n1'))).name, 'n1');
  assert.throws(() => decodeValue('nodes', 'ipfo/x/nodes/n1', '{"name":"n1"}'), /ipfo\/x\/nodes\/n1: field state/);
  assert.throws(() => decodeValue('resources', 'k', 'not json'), (error) => isStoreError(error, 'corrupt'));
  assert.equal(decodeOwnerNode('k', encodeOwnerNode('n1')), 'n1');
  assert.throws(() => decodeOwnerNode('k', '{}'), /not a node name/);
});

test('store locations: etcd://host:port[,host:port] and file:<dir>', () => {
  assert.deepEqual(parseStoreLocation('etcd://10.213.0.1:2379'), { kind: 'etcd', endpoints: ['10.213.0.1:2379'] });
  assert.deepEqual(parseStoreLocation('etcd://a:1,b.example:2379/'), { kind: 'etcd', endpoints: ['a:1', 'b.example:2379'] });
  assert.deepEqual(parseStoreLocation('file:/var/lib/ipfo'), { kind: 'file', dir: '/var/lib/ipfo' });
  for (const bad of ['etcd://', 'etcd://host', 'etcd://h:99999', 'file:', 'http://x:1', '/var/lib']) {
    assert.throws(() => parseStoreLocation(bad), (error) => isStoreError(error, 'invalid'), bad);
  }
});
