// Intent records as another agent (or something that is not one) left them in the store: parseIntent
// (main/cluster/intents.ts) gives a typed record only when every field of its kind and phase checks out.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { movesAddresses, parseIntent, subjectsOf, type Intent } from '../../main/cluster/intents';

const base = { id: 'move:web:1', actor: 'alice', createdAt: 1_700_000_000_000 };
const move = { ...base, kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2' };
const notify = { address: '10.250.0.2', port: 40000, nonce: 'ab'.repeat(16) };

const valid: Intent[] = [
  { ...base, kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2', phase: 'requested' },
  { ...base, kind: 'move', resource: 'web', fromNode: null, toNode: 'n2', phase: 'prepared', notify },
  { ...base, kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2', phase: 'prepared', notify: null },
  { ...base, kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2', phase: 'released', releasedAt: 1_700_000_000_100 },
  { ...base, kind: 'move', resource: 'web', fromNode: 'n1', toNode: 'n2', phase: 'failed', detail: 'conflict' },
  { ...base, id: 'probe:n2:1', kind: 'probe', node: 'n2', ip: '10.250.0.100', outcome: null },
  { ...base, id: 'probe:n2:2', kind: 'probe', node: 'n2', ip: '10.250.0.100', outcome: { ok: true, verdict: 'owner-only', answeredBy: ['02:00:00:00:00:01'], ownerMac: '02:00:00:00:00:01', durationMs: 12.5 } },
  { ...base, id: 'probe:n2:3', kind: 'probe', node: 'n2', ip: '10.250.0.100', outcome: { ok: false, message: 'no interface on 10.250.0.0/24' } },
  { ...base, id: 'announce:n1:1', kind: 'announce', node: 'n1', resource: 'web', outcome: null },
  { ...base, id: 'announce:n1:2', kind: 'announce', node: 'n1', resource: 'web', outcome: { ok: true, mac: '02:00:00:00:00:01', ifname: 'eth1' } },
  { ...base, id: 'announce:n1:3', kind: 'announce', node: 'n1', resource: 'web', outcome: { ok: false, message: 'web is not held on n1' } },
  { ...base, id: 'silence:n1:1', kind: 'silence', node: 'n1', lastHeardAt: 1_699_999_999_700 },
  { ...base, id: 'silence:n1:2', kind: 'silence', node: 'n1', lastHeardAt: null },
];

describe('parseIntent', () => {
  test('every kind and phase survives JSON and comes back equal', () => {
    for (const intent of valid) assert.deepEqual(parseIntent(JSON.parse(JSON.stringify(intent))), { ok: true, intent });
  });

  test('fields a phase does not define are not carried over', () => {
    const parsed = parseIntent({ ...move, phase: 'requested', notify, releasedAt: 5, detail: 'x', extra: 'y' });
    assert.deepEqual(parsed, { ok: true, intent: { ...move, phase: 'requested' } });
  });

  const hostile: Array<[string, unknown, string]> = [
    ['null', null, 'not an object'],
    ['an array', [move], 'not an object'],
    ['no id', { ...move, id: undefined, phase: 'requested' }, 'id is not a string'],
    ['an empty id', { ...move, id: '', phase: 'requested' }, 'id is not a string'],
    ['a 5 kB actor', { ...move, actor: 'a'.repeat(5000), phase: 'requested' }, 'actor is not a string'],
    ['a negative time', { ...move, createdAt: -1, phase: 'requested' }, 'createdAt is not a time'],
    ['an infinite time', { ...move, createdAt: Infinity, phase: 'requested' }, 'createdAt is not a time'],
    ['a kind of old', { ...base, kind: 'offline', target: 'web', toNode: null }, 'unknown kind "offline"'],
    ['a move without a target node', { ...move, toNode: null, phase: 'requested' }, 'move: toNode is not a string'],
    ['a move from a number', { ...move, fromNode: 7, phase: 'requested' }, 'move: fromNode is neither a node nor null'],
    ['an unknown phase', { ...move, phase: 'done' }, 'move: unknown phase "done"'],
    ['no phase at all', move, 'move: unknown phase undefined'],
    ['a notify to a name', { ...move, phase: 'prepared', notify: { ...notify, address: 'evil.example' } }, 'move: notify is malformed'],
    ['a notify to port 0', { ...move, phase: 'prepared', notify: { ...notify, port: 0 } }, 'move: notify is malformed'],
    ['a short nonce', { ...move, phase: 'prepared', notify: { ...notify, nonce: 'abc' } }, 'move: notify is malformed'],
    ['released without a time', { ...move, phase: 'released' }, 'move: releasedAt is not a time'],
    ['failed without a reason', { ...move, phase: 'failed' }, 'move: detail is not a string'],
    ['a probe of a name', { ...base, kind: 'probe', node: 'n2', ip: 'web.local', outcome: null }, 'probe: ip is not an IPv4 or RFC 5952 IPv6 address'],
    ['a probe without a node', { ...base, kind: 'probe', ip: '10.0.0.1', outcome: null }, 'probe: node is not a string'],
    ['a verdict of its own', { ...base, kind: 'probe', node: 'n2', ip: '10.0.0.1', outcome: { ok: true, verdict: 'fine', answeredBy: [], ownerMac: null, durationMs: 1 } }, 'probe: outcome is malformed'],
    ['an answer from a non-MAC', { ...base, kind: 'probe', node: 'n2', ip: '10.0.0.1', outcome: { ok: true, verdict: 'conflict', answeredBy: ['<script>'], ownerMac: null, durationMs: 1 } }, 'probe: outcome is malformed'],
    ['65 answers', { ...base, kind: 'probe', node: 'n2', ip: '10.0.0.1', outcome: { ok: true, verdict: 'conflict', answeredBy: Array<string>(65).fill('02:00:00:00:00:01'), ownerMac: null, durationMs: 1 } }, 'probe: outcome is malformed'],
    ['a failure without a message', { ...base, kind: 'probe', node: 'n2', ip: '10.0.0.1', outcome: { ok: false } }, 'probe: outcome is malformed'],
    ['a silence without its node', { ...base, kind: 'silence', lastHeardAt: 5 }, 'silence: node is not a string'],
    ['a silence heard at a text', { ...base, kind: 'silence', node: 'n1', lastHeardAt: 'yesterday' }, 'silence: lastHeardAt is neither a time nor null'],
    ['a silence heard before the epoch', { ...base, kind: 'silence', node: 'n1', lastHeardAt: -1 }, 'silence: lastHeardAt is neither a time nor null'],
    ['a silence heard at infinity', { ...base, kind: 'silence', node: 'n1', lastHeardAt: Infinity }, 'silence: lastHeardAt is neither a time nor null'],
    ['an announce without a node', { ...base, kind: 'announce', resource: 'web', outcome: null }, 'announce: node is not a string'],
    ['an announce of nothing', { ...base, kind: 'announce', node: 'n1', resource: '', outcome: null }, 'announce: resource is not a string'],
    ['an announce from a non-MAC', { ...base, kind: 'announce', node: 'n1', resource: 'web', outcome: { ok: true, mac: 'ff:ff', ifname: 'eth1' } }, 'announce: outcome is malformed'],
    ['an announce on a 16-character interface', { ...base, kind: 'announce', node: 'n1', resource: 'web', outcome: { ok: true, mac: '02:00:00:00:00:01', ifname: 'x'.repeat(16) } }, 'announce: outcome is malformed'],
    ['an announce that neither worked nor failed', { ...base, kind: 'announce', node: 'n1', resource: 'web', outcome: { ok: 'yes' } }, 'announce: outcome is malformed'],
  ];
  for (const [name, value, reason] of hostile) {
    test(`refuses ${name}: ${reason}`, () => assert.deepEqual(parseIntent(value), { ok: false, reason }));
  }

  test('a move is indexed by its resource, a probe by its node and address, an announce-now apart from any resource', () => {
    assert.deepEqual(subjectsOf(valid[0]!), ['web']);
    assert.deepEqual(subjectsOf(valid[5]!), ['n2\u000010.250.0.100']);
    assert.deepEqual(subjectsOf(valid[8]!), ['announce\u0000web']);
  });

  test('only moves and batches move addresses (a probe or an announce-now never sets a resource aside)', () => {
    assert.deepEqual(valid.map((intent) => movesAddresses(intent)), valid.map((intent) => intent.kind === 'move'));
  });
});
