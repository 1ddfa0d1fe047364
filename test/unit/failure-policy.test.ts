// The failure policy's pure parts (issue 14 §3): the decision after a failure of a node's own, the
// records' reading (bans, failover marks) and pruning, the threshold's spelling, placement and the
// reconcile planner with bans, the records and intents another agent wrote (hostile ones refused).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceSpec, ResourceStatus } from '../../main/cluster/model';
import { decideLocalFailure, isLocalFailure, pruneRecord, RETRY_DELAY_MAX_MS, withoutResource, type LocalFailure } from '../../main/cluster/failure-policy';
import { parseIntent } from '../../main/cluster/intents';
import { planReconcile } from '../../main/cluster/reconcile';
import { validateResourceSpec } from '../../main/cluster/validate';
import {
  bannedResources,
  bansOf,
  failoverLimitReached,
  failoversSince,
  formatThreshold,
  NodeBanSchema,
  parseThreshold,
  THRESHOLD_WINDOW_MAX_SEC,
  type FailoverMark,
} from '../../preload/contract/failure-policy';
import { describeFailure } from '../../preload/contract/failure-text';
import { NodeHealthSchema } from '../../preload/contract/health';
import { bestNode, eligibleNodes, placeBatch, type NodeView } from '../../preload/contract/placement';
import { resourceSpec } from '../fixtures/records';

const NOW = 1_800_000_000_000;
const REGISTER: LocalFailure = { kind: 'register-failed', node: 'n1', detail: 'Operation not permitted' };
const spec = (fields: Partial<ResourceSpec> = {}): ResourceSpec => resourceSpec('web', '10.213.7.10', fields);
const marks = (...ats: number[]): Array<{ failovers: FailoverMark[] }> => [{ failovers: ats.map((at) => ({ resource: 'web', at })) }];

describe('the decision after a failure of the node\'s own', () => {
  test('defaults: one retry after 1 s, then a ban of 10 minutes that says why', () => {
    assert.deepEqual(decideLocalFailure({ spec: spec(), failure: REGISTER, attempt: 1, marks: [], now: NOW }), { kind: 'retry', attempt: 1, of: 1, delayMs: 1000 });
    assert.deepEqual(decideLocalFailure({ spec: spec(), failure: REGISTER, attempt: 2, marks: [], now: NOW }), {
      kind: 'ban',
      after: 2,
      ban: { resource: 'web', since: NOW, until: NOW + 600_000, reason: 'could not register on n1: Operation not permitted' },
    });
  });

  test('retries wait 1, 2, 4 … s, at most 10 s; retries 0 bans at once; banForSec as set', () => {
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => decideLocalFailure({ spec: spec({ retries: 10 }), failure: REGISTER, attempt, marks: [], now: NOW }));
    assert.deepEqual(delays.map((d) => (d.kind === 'retry' ? d.delayMs : null)), [1000, 2000, 4000, 8000, RETRY_DELAY_MAX_MS, RETRY_DELAY_MAX_MS]);
    const ban = decideLocalFailure({ spec: spec({ retries: 0, banForSec: 90 }), failure: REGISTER, attempt: 1, marks: [], now: NOW });
    assert.equal(ban.kind, 'ban');
    assert.equal(ban.kind === 'ban' && ban.ban.until - ban.ban.since, 90_000);
    // A wall clock with fractions (performance.timeOrigin + now) still gives a record every reader accepts.
    const fractional = decideLocalFailure({ spec: spec({ retries: 0 }), failure: REGISTER, attempt: 1, marks: [], now: NOW + 0.625 });
    assert.ok(fractional.kind === 'ban' && NodeBanSchema.safeParse(fractional.ban).success && fractional.ban.since === NOW + 1);
  });

  test('the threshold: marks within the window count on every node; reached, the resource fails instead of moving', () => {
    const threshold = { count: 2, windowSec: 3600 };
    const inside = NOW - 3_599_000;
    const outside = NOW - 3_601_000;
    // One mark in the window (and one older): below the threshold, a ban.
    assert.equal(decideLocalFailure({ spec: spec({ retries: 0, failoverThreshold: threshold }), failure: REGISTER, attempt: 1, marks: marks(inside, outside), now: NOW }).kind, 'ban');
    // Two, on two nodes: the limit.
    const decided = decideLocalFailure({ spec: spec({ retries: 0, failoverThreshold: threshold }), failure: REGISTER, attempt: 1, marks: [...marks(inside), { failovers: [{ resource: 'web', at: NOW - 10 }, { resource: 'db', at: NOW }] }], now: NOW });
    assert.deepEqual(decided, { kind: 'fail', failure: { kind: 'failover-limit', count: 2, windowSec: 3600, detail: 'could not register on n1: Operation not permitted' } });
    assert.equal(describeFailure(decided.kind === 'fail' ? decided.failure : REGISTER), '2 moves caused by failures within 1 h: it stays put (ipfo resource cleanup resets the count); could not register on n1: Operation not permitted');
    // Retries come first: the threshold is looked at only when the node would be banned.
    assert.equal(decideLocalFailure({ spec: spec({ failoverThreshold: threshold }), failure: REGISTER, attempt: 1, marks: marks(NOW, NOW), now: NOW }).kind, 'retry');
  });

  test('counting and the limit itself', () => {
    assert.equal(failoversSince('web', [...marks(NOW - 5, NOW - 50), { failovers: [{ resource: 'db', at: NOW }] }, {}], NOW - 10), 1);
    assert.equal(failoverLimitReached(spec(), marks(NOW, NOW, NOW), NOW), false, 'no threshold, no limit');
    assert.equal(failoverLimitReached(spec({ failoverThreshold: { count: 3, windowSec: 60 } }), marks(NOW, NOW, NOW), NOW), true);
    assert.equal(failoverLimitReached(spec({ failoverThreshold: { count: 3, windowSec: 60 } }), marks(NOW, NOW, NOW - 61_000), NOW), false);
  });

  test('which failures are the node\'s own: register and interface; a conflict never is', () => {
    assert.equal(isLocalFailure(REGISTER), true);
    assert.equal(isLocalFailure({ kind: 'interface-missing', node: 'n1', detail: 'no lan9' }), true);
    assert.equal(isLocalFailure({ kind: 'conflict', mac: '02:00:00:00:00:66' }), false);
    assert.equal(isLocalFailure({ kind: 'no-eligible-node' }), false);
  });
});

describe('a node\'s bans and marks', () => {
  test('pruning lifts ended bans, drops marks older than the longest window, and says whether anything went', () => {
    const bans = [{ resource: 'web', since: NOW - 10, until: NOW, reason: 'x' }, { resource: 'db', since: NOW - 10, until: NOW + 1, reason: 'y' }];
    const old = NOW - THRESHOLD_WINDOW_MAX_SEC * 1000 - 1;
    const pruned = pruneRecord(bans, [{ resource: 'web', at: old }, { resource: 'web', at: NOW }], NOW);
    assert.deepEqual(pruned, { bans: [bans[1]], marks: [{ resource: 'web', at: NOW }], changed: true });
    assert.equal(pruneRecord(pruned.bans, pruned.marks, NOW).changed, false);
    assert.deepEqual(withoutResource([{ resource: 'web' }, { resource: 'db' }, { resource: 'web' }], 'web'), { kept: [{ resource: 'db' }], dropped: 2 });
  });

  test('read by placement as a set, by the CLI per resource in node order', () => {
    const list = [{ resource: 'web', since: 1, until: 2, reason: 'r' }];
    assert.deepEqual([...bannedResources(list)], ['web']);
    assert.equal(bannedResources(list), bannedResources(list), 'cached per record');
    assert.equal(bannedResources(undefined).size, 0);
    assert.deepEqual(bansOf('web', [{ name: 'n2', bans: list }, { name: 'n1', bans: list }, { name: 'n3' }]).map((b) => b.node), ['n1', 'n2']);
  });

  test('hostile records are refused: a ban ending before it began, unknown fields, too long a reason, too many entries', () => {
    assert.ok(NodeHealthSchema.safeParse({ node: 'n1', results: [], bans: [{ resource: 'web', since: 1, until: 2, reason: 'x' }], failovers: [{ resource: 'web', at: 1 }] }).success);
    assert.ok(NodeHealthSchema.safeParse({ node: 'n1', results: [] }).success, 'an older agent writes neither');
    for (const hostile of [
      { node: 'n1', results: [], bans: [{ resource: 'web', since: 2, until: 1, reason: 'x' }] },
      { node: 'n1', results: [], bans: [{ resource: 'web', since: 1, until: 2, reason: 'x', extra: true }] },
      { node: 'n1', results: [], bans: [{ resource: 'web', since: 1, until: 2, reason: 'x'.repeat(201) }] },
      { node: 'n1', results: [], bans: [{ resource: '', since: 1, until: 2, reason: 'x' }] },
      { node: 'n1', results: [], failovers: [{ resource: 'web', at: -1 }] },
      { node: 'n1', results: [], failovers: [{ resource: 'web', at: 1.5 }] },
      { node: 'n1', results: [], failovers: Array.from({ length: 4097 }, () => ({ resource: 'web', at: 1 })) },
      { node: 'n1', results: [], bans: 'web' },
    ]) assert.equal(NodeHealthSchema.safeParse(hostile).success, false, JSON.stringify(hostile).slice(0, 120));
    assert.equal(NodeBanSchema.safeParse({ resource: 'web', since: 0, until: Number.MAX_SAFE_INTEGER + 2, reason: '' }).success, false);
  });
});

describe('the threshold as typed', () => {
  test('COUNT/WINDOW with s, m, h or d (or bare seconds) reads back as it prints', () => {
    for (const [text, threshold, printed] of [
      ['5/1h', { count: 5, windowSec: 3600 }, '5/1h'],
      ['3/30m', { count: 3, windowSec: 1800 }, '3/30m'],
      ['10/86400', { count: 10, windowSec: 86_400 }, '10/1d'],
      ['2/90m', { count: 2, windowSec: 5400 }, '2/90m'],
      ['1/61s', { count: 1, windowSec: 61 }, '1/61s'],
      [' 7/7d ', { count: 7, windowSec: 604_800 }, '7/7d'],
    ] as const) {
      assert.deepEqual(parseThreshold(text), { ok: true, threshold }, text);
      assert.equal(formatThreshold(threshold), printed);
      assert.deepEqual(parseThreshold(printed), { ok: true, threshold });
    }
  });

  test('anything else says what is expected', () => {
    for (const [text, error] of [
      ['5', 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)'],
      ['5/1w', 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)'],
      ['-1/1h', 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)'],
      ['0/1h', 'the count must be 1..100'],
      ['101/1h', 'the count must be 1..100'],
      ['5/59s', 'the window must be 1 minute to 7 days'],
      ['5/8d', 'the window must be 1 minute to 7 days'],
      ['5/1h; rm -rf /', 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)'],
    ] as const) assert.deepEqual(parseThreshold(text), { ok: false, error }, text);
  });

  test('the validator: the policy fields within their bounds, null for the default, each problem by field', () => {
    const context = { nodes: ['n1'], existing: [] };
    const ok = validateResourceSpec({ name: 'web', ip: '10.213.7.10/24', retries: 0, banForSec: 60, failoverThreshold: { count: 5, windowSec: 3600 } }, context);
    assert.ok(ok.ok);
    assert.deepEqual(ok.ok && [ok.spec.retries, ok.spec.banForSec, ok.spec.failoverThreshold], [0, 60, { count: 5, windowSec: 3600 }]);
    const defaults = validateResourceSpec({ name: 'web', ip: '10.213.7.10/24', retries: null, banForSec: null, failoverThreshold: null }, context);
    assert.ok(defaults.ok && !('retries' in defaults.spec) && !('banForSec' in defaults.spec) && !('failoverThreshold' in defaults.spec));
    const bad = validateResourceSpec({ name: 'web', ip: '10.213.7.10/24', retries: 11, banForSec: 0.5, failoverThreshold: { count: 0, windowSec: 3600, extra: 1 } }, context);
    assert.deepEqual(bad.ok ? [] : bad.errors.map((e) => e.field), ['retries', 'banForSec', 'failoverThreshold.extra', 'failoverThreshold.count']);
    const missing = validateResourceSpec({ name: 'web', ip: '10.213.7.10/24', failoverThreshold: { count: 3 } }, context);
    assert.deepEqual(missing.ok ? [] : missing.errors.map((e) => e.message), ['failoverThreshold.windowSec is required']);
  });
});

describe('placement and the reconcile planner with bans', () => {
  const up = (name: string, banned: string[] = []): NodeView => ({ name, state: 'up', banned: new Set(banned) });

  test('a banned node is never chosen: not as the preferred owner, not by load, not in a batch', () => {
    const web = spec({ preferredOwners: ['n1', 'n2'] });
    const nodes = [up('n1', ['web']), up('n2'), up('n3')];
    assert.equal(bestNode(web, nodes), 'n2');
    assert.deepEqual(eligibleNodes(web, nodes).map((n) => n.name), ['n2', 'n3']);
    assert.equal(bestNode(spec(), [up('n1', ['web']), up('n2', ['web']), up('n3')], { loads: { n3: 50 } }), 'n3');
    assert.deepEqual([...placeBatch([web, resourceSpec('db', '10.213.7.11', { preferredOwners: ['n1'] })], nodes, {})], [['db', 'n1'], ['web', 'n2']]);
  });

  const offline = (name: string, fields: Partial<ResourceStatus> = {}): ResourceStatus => ({ name, state: 'offline', owner: null, ownerMac: null, since: 0, failure: null, lastHandoffMs: null, ...fields });
  const input = (nodes: NodeView[], status: ResourceStatus, resource = spec()) => ({
    specs: new Map([[resource.name, resource]]),
    owners: new Map(),
    ownedBy: () => new Set<string>(),
    statuses: new Map([[status.name, status]]),
    nodes,
  });

  test('banned on every live node that may hold it: failed as banned everywhere, once; placed again when a ban goes', () => {
    const everywhere = planReconcile('n1', input([up('n1', ['web']), up('n2', ['web']), { name: 'n3', state: 'down' }], offline('web')));
    assert.deepEqual(everywhere.unplaceable, [{ resource: 'web', failure: { kind: 'banned-everywhere' } }]);
    const said = offline('web', { state: 'failed', failure: { kind: 'banned-everywhere' } });
    assert.deepEqual(planReconcile('n1', input([up('n1', ['web']), up('n2', ['web'])], said)).unplaceable, [], 'written once');
    assert.deepEqual(planReconcile('n2', input([up('n1', ['web']), up('n2')], said)).actions, [{ kind: 'acquire', resource: 'web' }]);
    // No live node at all is not a ban: no eligible node.
    assert.deepEqual(planReconcile('n1', input([{ name: 'n1', state: 'down', banned: new Set(['web']) }], offline('web'))).unplaceable, [{ resource: 'web', failure: { kind: 'no-eligible-node' } }]);
  });

  test('failed at the failover limit: never placed again by itself (a cleanup clears it)', () => {
    const limited = offline('web', { state: 'failed', failure: { kind: 'failover-limit', count: 5, windowSec: 3600, detail: 'x' } });
    assert.deepEqual(planReconcile('n1', input([up('n1'), up('n2')], limited)).actions, []);
  });
});

describe('cleanup intents another agent wrote', () => {
  const base = { id: 'cleanup:n2:abc', actor: 'cli:root', createdAt: 5, kind: 'cleanup', node: 'n2', resource: 'web' };
  test('read field by field: asked, answered, or refused with the reason', () => {
    assert.deepEqual(parseIntent({ ...base, outcome: null }), { ok: true, intent: { ...base, outcome: null } });
    assert.deepEqual(parseIntent({ ...base, outcome: { ok: true, bans: 1, failovers: 3 } }), { ok: true, intent: { ...base, outcome: { ok: true, bans: 1, failovers: 3 } } });
    assert.deepEqual(parseIntent({ ...base, outcome: { ok: false, message: 'no' } }), { ok: true, intent: { ...base, outcome: { ok: false, message: 'no' } } });
    for (const [hostile, reason] of [
      [{ ...base, node: 7, outcome: null }, 'cleanup: node is not a string'],
      [{ ...base, resource: '', outcome: null }, 'cleanup: resource is not a string'],
      [{ ...base, outcome: { ok: true, bans: -1, failovers: 0 } }, 'cleanup: outcome is malformed'],
      [{ ...base, outcome: { ok: true, bans: 1.5, failovers: 0 } }, 'cleanup: outcome is malformed'],
      [{ ...base, outcome: { ok: 'yes' } }, 'cleanup: outcome is malformed'],
      [{ ...base, outcome: { ok: false, message: '' } }, 'cleanup: outcome is malformed'],
    ] as const) assert.deepEqual(parseIntent(hostile), { ok: false, reason });
  });
});
