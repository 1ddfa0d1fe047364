// Records read from the store (main/store/record-check.ts, codec.ts decodeRecord/decodeOwner): every
// hostile record is refused with its exact reason, every record an agent writes passes, and what is
// printed of a hostile key cannot drive a terminal.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeOwner, decodeRecord } from '../../main/store/codec';
import { checkRecord, fitAuditRecord, printable, rejectedRecord } from '../../main/store/record-check';
import { macsForRecord } from '../../main/store/node-record';
import type { Collection } from '../../main/store/store';
import { nodeRecord, resourceSpec, userRecord } from '../fixtures/records';

const reasonOf = (collection: Collection, name: string, value: unknown): string => {
  const checked = checkRecord(collection, name, value);
  assert.equal(checked.ok, false, `${collection}/${name} should be refused: ${JSON.stringify(value)}`);
  return checked.ok ? '' : checked.reason;
};

describe('records an agent writes pass', () => {
  test('one of each collection', () => {
    const good: Array<[Collection, string, unknown]> = [
      ['nodes', 'n1', nodeRecord('n1', { eth0: '02:00:00:00:00:01' })],
      ['members', 'n1', { leaseId: '7587869301884468996', joinedAt: 5 }],
      ['resources', 'web', resourceSpec('web', '10.213.7.10', { preferredOwners: ['n1', 'n2'], possibleOwners: ['n1', 'n2', 'n3'], interfaces: { n1: 'eth0' } })],
      ['owners', 'web', { node: 'n1', leaseId: '7587869301884468996' }],
      ['status', 'web', { name: 'web', state: 'online', owner: 'n1', ownerMac: '02:00:00:00:00:01', since: 5, failure: null, lastHandoffMs: 2.5 }],
      ['intents', 'move:web:1', { id: 'move:web:1', kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'cli:a', createdAt: 5 }],
      ['audit', '0000000000000001', { seq: 1, at: 5, actor: 'agent:n1', action: 'move', target: 'web', outcome: 'ok', detail: null, handoffMs: 1.2 }],
      ['bindings', 'n1', { node: 'n1', at: 5, bindings: [{ ip: '10.213.7.1', vlan: null, mac: '02:00:00:00:00:09', vendor: null, firstSeen: 1, lastSeen: 5, count: 3, changes: 0 }] }],
      ['users', 'alice', userRecord('alice', 'operator', { rotatedAt: 9 })],
      ['health', 'n1', { node: 'n1', results: [{ key: '0123456789abcdef', healthy: false, reason: 'tcp 127.0.0.1:80: connection refused', since: 5 }] }],
      ['resources', 'api', resourceSpec('api', '10.213.7.11', { health: { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }, { kind: 'exec', argv: ['/bin/true'] }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2 } })],
    ];
    for (const [collection, name, value] of good) {
      const checked = checkRecord(collection, name, value);
      assert.deepEqual(checked, { ok: true, value }, `${collection}/${name}`);
    }
  });
});

describe('hostile records are refused with their reason', () => {
  test('the issue\'s reproduction: a resource without its lists (it froze every reconcile)', () => {
    assert.match(reasonOf('resources', 'evil', { name: 'evil', ip: '10.77.0.5', prefix: 24, enabled: true }), /^possibleOwners: .*\(and \d+ more\)$/);
  });

  test('an address the API refuses is refused here too: multicast, broadcast, loopback, a subnet\'s edge', () => {
    assert.match(reasonOf('resources', 'm', resourceSpec('m', '224.0.0.1')), /multicast/);
    assert.match(reasonOf('resources', 'b', resourceSpec('b', '255.255.255.255', { prefix: 32 })), /255\.255\.255\.255|broadcast/);
    assert.match(reasonOf('resources', 'l', resourceSpec('l', '127.0.0.5')), /loopback/);
    assert.match(reasonOf('resources', 'n', resourceSpec('n', '10.213.7.0')), /network address/);
  });

  test('a record that names another key than its own (it would shadow that one)', () => {
    assert.equal(reasonOf('resources', 'evil', resourceSpec('web')), 'name "web" is not the key\'s name "evil"');
    assert.equal(reasonOf('nodes', 'n2', nodeRecord('n1')), 'name "n1" is not the key\'s name "n2"');
    assert.equal(reasonOf('status', 'db', { name: 'web', state: 'online', owner: null, ownerMac: null, since: 1, failure: null, lastHandoffMs: null }), 'name "web" is not the key\'s name "db"');
    assert.equal(reasonOf('bindings', 'n1', { node: 'n9', at: 1, bindings: [] }), 'node "n9" is not the key\'s name "n1"');
  });

  test('wrong types, unknown fields, out-of-range values, not an object', () => {
    assert.equal(reasonOf('resources', 'web', []), 'not a JSON object');
    assert.equal(reasonOf('resources', 'web', null), 'not a JSON object');
    assert.match(reasonOf('resources', 'web', { ...resourceSpec('web'), prefix: '24' }), /^prefix: /);
    assert.match(reasonOf('resources', 'web', { ...resourceSpec('web'), extra: 1 }), /extra/);
    assert.match(reasonOf('resources', 'web', resourceSpec('web', '10.213.7.10', { announceCount: 1e9 })), /^announceCount: /);
    assert.match(reasonOf('resources', 'web', resourceSpec('web', '10.213.7.10', { preferredOwners: ['n9'], possibleOwners: ['n1'] })), /preferred owner "n9" is not one of the possible owners/);
    assert.match(reasonOf('nodes', 'n1', { ...nodeRecord('n1'), macs: { eth0: 'FF:FF' } }), /^macs\.eth0: /);
    assert.match(reasonOf('status', 'web', { name: 'web', state: 'exploded', owner: null, ownerMac: null, since: 1, failure: null, lastHandoffMs: null }), /^state: /);
    assert.match(reasonOf('members', 'n1', { leaseId: 5, joinedAt: 1 }), /^leaseId: /);
    assert.match(reasonOf('bindings', 'n1', { node: 'n1', at: 1, bindings: Array.from({ length: 5000 }, () => ({})) }), /^bindings: /);
  });

  test('a health record or a resource\'s checks that are not what they claim to be (a forged verdict would move an address)', () => {
    const verdict = { key: '0123456789abcdef', healthy: true, reason: 'ok', since: 1 };
    assert.equal(reasonOf('health', 'n1', { node: 'n2', results: [] }), 'node "n2" is not the key\'s name "n1"');
    assert.match(reasonOf('health', 'n1', { node: 'n1', results: [{ ...verdict, key: '../../etc' }] }), /^results\.0\.key: /);
    assert.match(reasonOf('health', 'n1', { node: 'n1', results: [{ ...verdict, healthy: 1 }] }), /^results\.0\.healthy: /);
    assert.match(reasonOf('health', 'n1', { node: 'n1', results: [{ ...verdict, since: 1.5 }] }), /^results\.0\.since: /);
    assert.match(reasonOf('health', 'n1', { node: 'n1', results: [{ ...verdict, reason: '\u001b'.repeat(300) }] }), /^results\.0\.reason: /);
    assert.match(reasonOf('health', 'n1', { node: 'n1', results: [], extra: true }), /extra/);
    const health = (checks: unknown[], extra: Record<string, unknown> = {}): unknown => ({ ...resourceSpec('api', '10.213.7.11'), health: { checks, intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2, ...extra } });
    assert.match(reasonOf('resources', 'api', health([{ kind: 'exec', argv: ['sh', '-c', 'reboot'] }])), /absolute path/);
    assert.match(reasonOf('resources', 'api', health([{ kind: 'exec', argv: ['/bin/sh', 'a\u0000b'] }])), /control characters/);
    assert.match(reasonOf('resources', 'api', health([{ kind: 'tcp', host: '$(reboot)', port: 80 }])), /host name/);
    assert.match(reasonOf('resources', 'api', health([])), /at least one check/);
    assert.match(reasonOf('resources', 'api', health([{ kind: 'gateway' }], { timeoutMs: 900 })), /timeout/);
    assert.match(reasonOf('resources', 'api', health([{ kind: 'ping', host: 'x' }])), /kind/);
  });

  test('an audit entry whose ARP part is not one (a forged conflict would make an owner defend against it)', () => {
    const entry = { seq: 1, at: 5, actor: 'x', action: 'arp.conflict', target: null, outcome: 'ok', detail: null, handoffMs: null };
    assert.match(reasonOf('audit', '1', { ...entry, arp: { kind: 'conflict', conflict: { node: 'n1' } } }), /^arp\.conflict\./);
    assert.match(reasonOf('audit', '1', { ...entry, arp: { kind: 'nonsense' } }), /^arp\.kind: /);
    assert.match(reasonOf('audit', '1', { ...entry, outcome: 'maybe' }), /^outcome: /);
  });

  test('a user that is not one: it could sign in under another name, or with a role no one gave it', () => {
    assert.equal(reasonOf('users', 'alice', userRecord('mallory', 'admin')), 'name "mallory" is not the key\'s name "alice"');
    assert.match(reasonOf('users', 'alice', { ...userRecord('alice'), role: 'superuser' }), /^role: /);
    assert.match(reasonOf('users', 'alice', { ...userRecord('alice'), verifier: { storedKey: 'z'.repeat(64), serverKey: 'b'.repeat(64) } }), /^verifier\.storedKey: must be 64 lowercase hex digits$/);
    assert.match(reasonOf('users', 'alice', { ...userRecord('alice'), secret: 'c'.repeat(64) }), /secret/);
    assert.match(reasonOf('users', 'root', userRecord('root', 'admin')), /^name: "root" is the node token's identity/);
    const { createdBy: _createdBy, ...missing } = userRecord('alice');
    assert.match(reasonOf('users', 'alice', missing), /^createdBy: /);
  });

  test('intents are parsed by the move machine\'s own parser', () => {
    assert.equal(reasonOf('intents', 'm', { id: 'm', kind: 'move', phase: 'done', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'a', createdAt: 1 }).length > 0, true);
    assert.equal(reasonOf('intents', 'other', { id: 'm', kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'a', createdAt: 1 }), 'id "m" is not the key\'s name "other"');
  });
});

describe('decoding stored text', () => {
  test('not JSON, and a good record', () => {
    assert.deepEqual(decodeRecord('resources', 'web', '{"name":'), { ok: false, reason: 'not JSON' });
    assert.deepEqual(decodeRecord('resources', 'web', JSON.stringify(resourceSpec('web'))), { ok: true, value: resourceSpec('web') });
    assert.deepEqual(decodeRecord('users', 'alice', JSON.stringify(userRecord('alice'))), { ok: true, value: userRecord('alice') });
  });

  test('an owner key must name a node and be bound to a lease', () => {
    assert.deepEqual(decodeOwner('web', '"n1"', '7587869301884468996'), { ok: true, node: 'n1' });
    assert.match((decodeOwner('web', '"n1"', '0') as { reason: string }).reason, /not bound to a lease/);
    assert.match((decodeOwner('web', '{"node":"n1"}', '7') as { reason: string }).reason, /^node: /);
    assert.match((decodeOwner('web', '""', '7') as { reason: string }).reason, /^node: /);
    assert.deepEqual(decodeOwner('web', 'n1', '7'), { ok: false, reason: 'not JSON' });
  });
});

describe('what is printed of a rejected record', () => {
  test('control characters are escaped, long texts cut', () => {
    assert.equal(printable('web\u001b[2J\u0007'), 'web\\u001b[2J\\u0007');
    assert.equal(printable('a\u2028b'), 'a\\u2028b');
    assert.equal(printable('x'.repeat(2000), 10), 'xxxxxxx...');
    const record = rejectedRecord('resources', 'e\u001bvil', 'ipfo/default/resources/e\u001bvil', 'name "x\u001b" bad', 9);
    assert.deepEqual(record, { collection: 'resources', name: 'e\\u001bvil', key: 'ipfo/default/resources/e\\u001bvil', reason: 'name "x\\u001b" bad', revision: 9 });
  });
});

describe('what agents write is always what their peers accept', () => {
  test('an audit entry with a long detail and target is cut, not left out; ARP parts as the agent writes them pass', () => {
    const stations = Array.from({ length: 200 }, (_, i) => `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
    const record = fitAuditRecord({
      at: 5, actor: 'agent:n1', action: 'arp.convergence', target: 'w'.repeat(300), outcome: 'ok', detail: `converged: all 200 station(s) updated after 40 ms (${stations.join(', ')})`, handoffMs: null,
      arp: { kind: 'convergence', ip: '10.213.7.10', stations: 200, converged: stations, stale: [], afterMs: 40 },
    });
    assert.equal(record.detail?.length, 1024);
    assert.ok(record.detail?.endsWith('...'));
    assert.equal(record.target?.length, 128);
    assert.deepEqual(checkRecord('audit', '1', { seq: 1, ...record }), { ok: true, value: { seq: 1, ...record } });
    const handoff = { seq: 2, at: 5, actor: 'n2', action: 'arp.handoff', target: 'web', outcome: 'ok', detail: 'x', handoffMs: null, arp: { kind: 'handoff', ip: '10.213.7.10', fromMac: stations[0], toMac: stations[1], fromNode: null, toNode: 'n2' } };
    assert.equal(checkRecord('audit', '2', handoff).ok, true);
  });

  test('a host with more Ethernet interfaces than a record holds records the first 64 by name', () => {
    const macs = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`veth${String(i).padStart(3, '0')}`, '02:00:00:00:00:01']));
    const recorded = macsForRecord(macs);
    assert.equal(Object.keys(recorded).length, 64);
    assert.equal(Object.keys(recorded).sort()[63], 'veth063');
    assert.equal(checkRecord('nodes', 'n1', { ...nodeRecord('n1'), macs: recorded }).ok, true);
    assert.equal(checkRecord('nodes', 'n1', { ...nodeRecord('n1'), macs }).ok, false, 'uncut, peers would leave the node out');
  });
});
