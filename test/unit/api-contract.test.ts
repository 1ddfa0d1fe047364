// The shared contract (preload/contract/): request parsing, error shaping, result checks and the
// domain schemas, without sockets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ConflictRecordSchema,
  NodeRecordSchema,
  ResourceSpecInputSchema,
  ResourceSpecPatchSchema,
  ResourceViewSchema,
  SnapshotSchema,
} from '../../preload/contract/domain';
import { checkResult, clip, parseRequest, parseServerMessage } from '../../preload/contract/parse';
import { COMMAND_ARGS, COMMAND_RESULTS, COMMAND_TYPES, SERVICE_COMMAND_TYPES } from '../../preload/contract/protocol';
import { actionDone, auditEntry, NODE_N1, resourceView, sampleSnapshot } from './api-fixtures';

describe('parseRequest', () => {
  test('a valid request comes back typed, with id and type', () => {
    const parsed = parseRequest(JSON.stringify({ id: 'r1', type: 'resource.move', name: 'web', target: 'best' }));
    assert.deepEqual(parsed, { ok: true, request: { id: 'r1', type: 'resource.move', name: 'web', target: 'best' } });
  });

  test('hello: a 64-hex nonce and an optional, checked client label; auth: a 64-hex proof and no token', () => {
    const nonce = 'ab'.repeat(32);
    assert.equal(parseRequest(JSON.stringify({ id: 'h', type: 'hello', protocol: 2, clientNonce: nonce, client: 'cli:bob' })).ok, true);
    const bad = parseRequest(JSON.stringify({ id: 'h', type: 'hello', protocol: 2, clientNonce: nonce, client: 'bob\nINJECTED' }));
    assert.ok(!bad.ok && bad.error.field === 'client');
    const short = parseRequest(JSON.stringify({ id: 'h', type: 'hello', protocol: 2, clientNonce: 'AB'.repeat(32) }));
    assert.ok(!short.ok && short.error.field === 'clientNonce');
    assert.equal(parseRequest(JSON.stringify({ id: 'a', type: 'auth', proof: nonce })).ok, true);
    const token = parseRequest(JSON.stringify({ id: 'a', type: 'auth', token: nonce }));
    assert.ok(!token.ok);
  });

  test('an unknown key is reported as that field, quoted and bounded', () => {
    const parsed = parseRequest(JSON.stringify({ id: 'r', type: 'snapshot', ['k'.repeat(5000)]: 1 }));
    assert.ok(!parsed.ok);
    assert.equal(parsed.error.code, 'bad-request');
    assert.ok(parsed.error.message.length <= 300);
    assert.ok((parsed.error.field ?? '').length <= 200);
    assert.match(parsed.error.message, /unknown field/);
  });

  test('messages quoting input stay on one line', () => {
    const parsed = parseRequest(JSON.stringify({ id: 'r', type: 'evil\ncommand\u2028x' }));
    assert.ok(!parsed.ok);
    assert.equal(parsed.error.code, 'unknown-type');
    assert.doesNotMatch(parsed.error.message, /[\n\u2028]/);
  });

  test('a resource spec keeps the operator input for the cluster rules to judge', () => {
    // "a.b.c.d/nn" and a missing prefix are for main/cluster/validate.ts, not a shape error.
    assert.equal(parseRequest(JSON.stringify({ id: 'r', type: 'resource.add', spec: { name: 'web', ip: '10.213.0.50/24' } })).ok, true);
  });

  test('every command has args and result schemas, and the handler commands are the rest', () => {
    assert.deepEqual(Object.keys(COMMAND_RESULTS).sort(), Object.keys(COMMAND_ARGS).sort());
    assert.deepEqual([...SERVICE_COMMAND_TYPES, 'hello', 'auth', 'snapshot', 'subscribe'].sort(), [...COMMAND_TYPES].sort());
    assert.ok(COMMAND_TYPES.includes('resource.move') && COMMAND_TYPES.includes('events.query'));
  });
});

describe('clip', () => {
  test('bounds length and removes line breaks', () => {
    assert.equal(clip('a\r\nb'), 'a  b');
    assert.equal(clip('x'.repeat(1000), 10), 'xxxxxxx...');
  });
});

describe('results and pushes', () => {
  test('contract-valid results pass, others are described', () => {
    assert.ok(checkResult('resource.move', actionDone()).ok);
    assert.ok(checkResult('events.query', { entries: [auditEntry(1)] }).ok);
    const bad = checkResult('probe', { node: 'n1', ip: '10.213.0.50', verdict: 'maybe', answeredBy: [], ownerMac: null, durationMs: 1 });
    assert.ok(!bad.ok);
    assert.match(bad.message, /verdict/);
  });

  test('server messages are told apart: reply, push, or invalid', () => {
    assert.equal(parseServerMessage(JSON.stringify({ id: 'x', ok: true, result: 1 })).kind, 'reply');
    assert.equal(parseServerMessage(JSON.stringify({ id: null, ok: false, error: { code: 'bad-json', message: 'm' } })).kind, 'reply');
    assert.equal(parseServerMessage(JSON.stringify({ type: 'change', revision: 3, change: { kind: 'audit', entry: auditEntry(4) } })).kind, 'push');
    assert.equal(parseServerMessage(JSON.stringify({ type: 'event', event: {} })).kind, 'invalid');
    assert.equal(parseServerMessage(JSON.stringify({ id: 'x', ok: false, error: { code: 'no-such-code', message: 'm' } })).kind, 'invalid');
    assert.equal(parseServerMessage('{').kind, 'invalid');
  });
});

describe('domain schemas', () => {
  test('the sample snapshot satisfies the contract', () => {
    assert.ok(SnapshotSchema.safeParse(sampleSnapshot()).success);
  });

  test('MACs and addresses must be canonical', () => {
    assert.ok(!NodeRecordSchema.safeParse({ ...NODE_N1, macs: { eth0: '02:00:00:00:00:0A' } }).success);
    assert.ok(!NodeRecordSchema.safeParse({ ...NODE_N1, macs: { eth0: '2:0:0:0:0:1' } }).success);
    assert.ok(!ResourceViewSchema.safeParse(resourceView('web', '10.213.0.050')).success);
    assert.ok(!ResourceViewSchema.safeParse(resourceView('web', '10.213.0.50/24')).success);
    assert.ok(ResourceViewSchema.safeParse(resourceView('web', '10.213.0.50')).success);
  });

  test('objects are strict and states closed', () => {
    assert.ok(!NodeRecordSchema.safeParse({ ...NODE_N1, extra: 1 }).success);
    assert.ok(!NodeRecordSchema.safeParse({ ...NODE_N1, state: 'sleeping' }).success);
    const view = resourceView('web', '10.213.0.50');
    assert.ok(!ResourceViewSchema.safeParse({ ...view, status: { ...view.status, failure: { kind: 'conflict' } } }).success);
    assert.ok(ResourceViewSchema.safeParse({ ...view, status: { ...view.status, state: 'failed', failure: { kind: 'conflict', mac: '02:00:00:00:00:66' } } }).success);
  });

  test('a conflict record names its observer and keeps VLAN ids in range', () => {
    const conflict = sampleSnapshot().conflicts[0];
    assert.ok(ConflictRecordSchema.safeParse(conflict).success);
    assert.ok(!ConflictRecordSchema.safeParse({ ...conflict, vlan: 4096 }).success);
  });

  test('spec input: name and ip required, the rest optional, unknown fields refused', () => {
    assert.ok(ResourceSpecInputSchema.safeParse({ name: 'web', ip: '10.213.0.50/24' }).success);
    assert.ok(!ResourceSpecInputSchema.safeParse({ ip: '10.213.0.50/24' }).success);
    assert.ok(!ResourceSpecInputSchema.safeParse({ name: 'web', ip: '10.213.0.50', prefered: [] }).success);
    assert.ok(ResourceSpecPatchSchema.safeParse({ ip: '10.213.0.51' }).success);
    assert.ok(!ResourceSpecPatchSchema.safeParse({}).success);
  });
});
