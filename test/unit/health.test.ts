// Health checks, the pure parts: the CLI's spelling of a check (and hostile spellings), profile keys,
// the fall/rise verdict, placement that never picks an unhealthy or unchecked node, the reconcile
// planner's "no healthy node", and the validation of an operator's checks.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatCheck, healthKey, HealthSpecSchema, isLocalProfile, NodeHealthSchema, parseCheck, resourceHealth, settleBeforeMovingMs, verdictsOf, type HealthResult, type HealthSpec } from '../../preload/contract/health';
import { bestNode, failsChecks, passesChecks, placeBatch, type NodeView } from '../../preload/contract/placement';
import { afterRun, combineRuns, type Verdict } from '../../main/cluster/health-verdict';
import { planReconcile } from '../../main/cluster/reconcile';
import { validateResourceSpec } from '../../main/cluster/validate';
import { failbackTarget } from '../../main/cluster/failback';
import type { ResourceSpec, ResourceStatus } from '../../main/cluster/model';

const TCP: HealthSpec = { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 8080 }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2 };
const KEY = healthKey(TCP);

function spec(name: string, extra: Partial<ResourceSpec> = {}): ResourceSpec {
  return { name, ip: '10.213.0.50', prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {}, enabled: true, announceForm: 'request', defendPolicy: 'always', health: TCP, ...extra };
}

function result(healthy: boolean, key = KEY): HealthResult {
  return { key, healthy, reason: healthy ? 'accepted' : 'refused', since: 1 };
}

function node(name: string, verdict: boolean | null, state: NodeView['state'] = 'up'): NodeView {
  return { name, state, verdicts: verdictsOf(verdict === null ? [] : [result(verdict)]) };
}

describe('the CLI spelling of a check', () => {
  test('each kind parses and prints back the same', () => {
    for (const text of ['tcp:127.0.0.1:8080', 'tcp:db.example:5432', 'http://127.0.0.1:8080/health', 'https://svc:8443/ready =204', 'exec:/usr/bin/pgrep -x haproxy', 'gateway', 'gateway:10.213.0.1']) {
      const parsed = parseCheck(text);
      assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : parsed.error}`);
      assert.equal(formatCheck(parsed.check), text);
    }
    assert.deepEqual(parseCheck('exec:/usr/bin/test  -e   /run/x'), { ok: true, check: { kind: 'exec', argv: ['/usr/bin/test', '-e', '/run/x'] } });
    assert.deepEqual(parseCheck('https://svc/x =503'), { ok: true, check: { kind: 'http', url: 'https://svc/x', expectStatus: 503 } });
  });

  test('hostile or wrong spellings are refused with the reason, never run', () => {
    const cases: Array<[string, RegExp]> = [
      ['tcp:127.0.0.1', /tcp:HOST:PORT/],
      ['tcp:127.0.0.1:0', /port/],
      ['tcp:127.0.0.1:70000', /port/],
      ['tcp:$(reboot):80', /host name/],
      ['tcp:a b:80', /host name/],
      ['exec:relative/prog', /absolute path/],
      ['exec:', /argv/],
      ['exec:/bin/sh -c \u0007', /control characters/],
      ['ftp://x/', /a check is/],
      ['http://', /http/],
      ['gateway:10.0.0.256', /IPv4/],
      ['udp:1.2.3.4:53', /a check is/],
      [`exec:/bin/x ${'a '.repeat(20)}`, /argv/],
    ];
    for (const [text, why] of cases) {
      const parsed = parseCheck(text);
      assert.equal(parsed.ok, false, text);
      if (!parsed.ok) assert.match(parsed.error, why, text);
    }
  });
});

describe('profile keys and records', () => {
  test('equal profiles give equal keys; any difference gives another', () => {
    assert.match(KEY, /^[0-9a-f]{16}$/);
    assert.equal(healthKey({ ...TCP, checks: [{ kind: 'tcp', host: '127.0.0.1', port: 8080 }] }), KEY);
    const others = [{ ...TCP, fall: 3 }, { ...TCP, rise: 3 }, { ...TCP, intervalMs: 600 }, { ...TCP, timeoutMs: 300 }, { ...TCP, checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 8081 }] }, { ...TCP, checks: [...TCP.checks, { kind: 'gateway' as const }] }];
    assert.equal(new Set([KEY, ...others.map(healthKey)]).size, others.length + 1);
  });

  test('a node health record is checked in full: hostile ones are refused', () => {
    assert.ok(NodeHealthSchema.safeParse({ node: 'n1', results: [result(true)] }).success);
    for (const hostile of [
      { node: 'n1', results: [{ ...result(true), key: 'not-a-key' }] },
      { node: 'n1', results: [{ ...result(true), healthy: 'yes' }] },
      { node: 'n1', results: [{ ...result(true), reason: 'x'.repeat(201) }] },
      { node: 'n1', results: [result(true)], extra: 1 },
      { node: 'n1', results: Array.from({ length: 4097 }, () => result(true)) },
    ]) assert.equal(NodeHealthSchema.safeParse(hostile).success, false);
    assert.equal(HealthSpecSchema.safeParse({ ...TCP, timeoutMs: 600 }).success, false, 'timeout above the interval');
  });
});

describe('a failure that may be everyone\'s waits an interval before the address moves', () => {
  test('local profiles move at once; a gateway or a remote host waits until the failure is an interval old', () => {
    assert.equal(isLocalProfile(TCP), true);
    assert.equal(isLocalProfile({ ...TCP, checks: [{ kind: 'http', url: 'http://localhost:8080/x' }, { kind: 'exec', argv: ['/bin/true'] }] }), true);
    assert.equal(isLocalProfile({ ...TCP, checks: [...TCP.checks, { kind: 'gateway' }] }), false);
    assert.equal(isLocalProfile({ ...TCP, checks: [{ kind: 'tcp', host: 'db.example', port: 5432 }] }), false);
    assert.equal(settleBeforeMovingMs(TCP, 1_000, 1_000), 0);
    const gateway = { ...TCP, checks: [{ kind: 'gateway' as const }] };
    // An interval (500) plus a timeout (200) plus 250 ms for the verdicts to reach every view.
    assert.equal(settleBeforeMovingMs(gateway, 1_000, 1_100), 850);
    assert.equal(settleBeforeMovingMs(gateway, 1_000, 1_950), 0);
  });
});

describe('the verdict: fall and rise', () => {
  const limits = { fall: 3, rise: 2 };
  const pass = { ok: true, reason: 'up' };
  const fail = { ok: false, reason: 'refused' };

  test('the first run decides at once', () => {
    assert.deepEqual(afterRun(null, pass, limits, 10), { verdict: { healthy: true, against: 0, reason: 'up', since: 10 }, change: 'first-healthy' });
    assert.equal(afterRun(null, fail, limits, 10).change, 'first-unhealthy');
  });

  test('fall failures in a row turn a healthy node; a pass in between starts over', () => {
    let verdict: Verdict = afterRun(null, pass, limits, 0).verdict;
    const changes: Array<string | null> = [];
    for (const [i, run] of [fail, fail, pass, fail, fail, fail].entries()) {
      const next = afterRun(verdict, run, limits, i + 1);
      verdict = next.verdict;
      changes.push(next.change);
    }
    assert.deepEqual(changes, [null, null, null, null, null, 'failed']);
    assert.equal(verdict.healthy, false);
    assert.equal(verdict.since, 6);
    assert.equal(verdict.reason, 'refused');
  });

  test('rise passes in a row recover it', () => {
    let verdict = afterRun(null, fail, limits, 0).verdict;
    verdict = afterRun(verdict, pass, limits, 1).verdict;
    assert.equal(verdict.healthy, false);
    const next = afterRun(verdict, pass, limits, 2);
    assert.equal(next.change, 'recovered');
    assert.equal(next.verdict.healthy, true);
  });

  test('every check must pass; the first failure is the reason', () => {
    assert.deepEqual(combineRuns([{ ok: true, reason: 'a' }, { ok: false, reason: 'b' }, { ok: false, reason: 'c' }]), { ok: false, reason: 'b' });
    assert.deepEqual(combineRuns([{ ok: true, reason: 'a' }, { ok: true, reason: 'b' }]), { ok: true, reason: 'a; b' });
  });
});

describe('placement with checks', () => {
  test('only a node whose verdict is healthy is eligible; unknown is not', () => {
    const nodes = [node('n1', false), node('n2', null), node('n3', true)];
    assert.equal(bestNode(spec('web'), nodes), 'n3');
    assert.equal(bestNode(spec('web'), [node('n1', false), node('n2', null)]), null);
    assert.equal(bestNode(spec('web', { preferredOwners: ['n1', 'n3'] }), nodes), 'n3', 'an unhealthy preferred owner is passed over');
    // A resource without checks ignores them; a caller without verdicts (a console's hint) too.
    assert.equal(bestNode(spec('plain', { health: undefined }), nodes), 'n1');
    assert.equal(bestNode(spec('web'), [{ name: 'n1', state: 'up' }]), 'n1');
  });

  test('another profile\'s verdict does not count', () => {
    const other = healthKey({ ...TCP, fall: 5 });
    const nodes: NodeView[] = [{ name: 'n1', state: 'up', verdicts: verdictsOf([result(true, other)]) }];
    assert.equal(passesChecks(spec('web'), nodes[0]!), false);
    assert.equal(failsChecks(spec('web'), nodes[0]!), false, 'unknown is not failing');
  });

  test('a batch spreads over the healthy nodes only', () => {
    const placed = placeBatch(['a', 'b', 'c', 'd'].map((name) => spec(name)), [node('n1', true), node('n2', false), node('n3', true)], {});
    assert.deepEqual([...placed.values()].sort(), ['n1', 'n1', 'n3', 'n3']);
  });

  test('failback goes only to a preferred owner that passes', () => {
    const web = spec('web', { preferredOwners: ['n1'], failback: { mode: 'immediate' } });
    assert.equal(failbackTarget(web, 'n2', [node('n1', false), node('n2', true)], new Date()), null);
    assert.equal(failbackTarget(web, 'n2', [node('n1', null), node('n2', true)], new Date()), null, 'not before it checked');
    assert.equal(failbackTarget(web, 'n2', [node('n1', true), node('n2', true)], new Date()), 'n1');
  });

  test('the reconcile planner says "no healthy node" when live nodes fail the checks, and places it once one passes', () => {
    const specs = new Map([['web', spec('web')]]);
    const input = (nodes: NodeView[], statuses: ResourceStatus[] = []) => ({ specs, owners: new Map(), ownedBy: () => new Set<string>(), statuses: new Map(statuses.map((s) => [s.name, s])), nodes });
    assert.deepEqual(planReconcile('n1', input([node('n1', false), node('n2', false)])).unplaceable, [{ resource: 'web', failure: { kind: 'no-healthy-node' } }]);
    assert.deepEqual(planReconcile('n1', input([node('n1', false), node('n2', null)])).unplaceable, [], 'n2 has not checked yet: no verdict, no failure');
    assert.deepEqual(planReconcile('n1', input([node('n1', false, 'down')])).unplaceable, [{ resource: 'web', failure: { kind: 'no-eligible-node' } }]);
    const failed: ResourceStatus = { name: 'web', state: 'failed', owner: null, ownerMac: null, since: 0, failure: { kind: 'no-healthy-node' }, lastHandoffMs: null };
    assert.deepEqual(planReconcile('n1', input([node('n1', false)], [failed])).unplaceable, [], 'said once');
    assert.deepEqual(planReconcile('n2', input([node('n1', false), node('n2', true)], [failed])).actions, [{ kind: 'acquire', resource: 'web' }]);
    // A preferred owner that has not checked yet is waited for: the first node to judge does not take it.
    const preferred = new Map([['web', spec('web', { preferredOwners: ['n1'] })]]);
    const waiting = { ...input([node('n1', null), node('n2', true)]), specs: preferred };
    assert.deepEqual(planReconcile('n2', waiting).actions, []);
    assert.deepEqual(planReconcile('n2', waiting).unplaceable, []);
    assert.deepEqual(planReconcile('n1', { ...input([node('n1', true), node('n2', true)]), specs: preferred }).actions, [{ kind: 'acquire', resource: 'web' }]);
  });
});

describe('the console\'s and the CLI\'s reading of a resource\'s health', () => {
  const nodes = (n1: boolean | null, n2: boolean | null) => [
    { name: 'n1', state: 'up', ...(n1 === null ? {} : { health: [result(n1)] }) },
    { name: 'n2', state: 'up', ...(n2 === null ? {} : { health: [result(n2)] }) },
  ];
  test('the holder\'s verdict, where it passes, and when it is stuck', () => {
    assert.deepEqual(resourceHealth({ possibleOwners: [] }, 'n1', nodes(true, true)), { state: 'none', reason: null, passing: [], failing: [], stuck: null });
    assert.deepEqual(resourceHealth({ health: TCP, possibleOwners: [] }, 'n1', nodes(false, true)), { state: 'failing', reason: 'refused', passing: ['n2'], failing: ['n1'], stuck: null });
    assert.equal(resourceHealth({ health: TCP, possibleOwners: [] }, 'n1', nodes(false, false)).stuck, 'fails on n1 and no other node passes: it stays on n1');
    assert.equal(resourceHealth({ health: TCP, possibleOwners: [] }, 'n1', nodes(null, true)).state, 'unknown');
    assert.deepEqual(resourceHealth({ health: TCP, possibleOwners: ['n1'] }, 'n1', nodes(false, true)).passing, [], 'n2 may not hold it');
  });
});

describe('validation of an operator\'s checks', () => {
  const context = { nodes: ['n1', 'n2'], existing: [] };
  const base = { name: 'web', ip: '10.213.0.50/24' };

  test('defaults are filled in', () => {
    const valid = validateResourceSpec({ ...base, health: { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }] } }, context);
    assert.ok(valid.ok);
    assert.deepEqual(valid.spec.health, { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }], intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2 });
    const none = validateResourceSpec({ ...base, health: null }, context);
    assert.ok(none.ok && none.spec.health === undefined);
  });

  test('every problem is reported by field', () => {
    const invalid = validateResourceSpec({ ...base, health: { checks: [{ kind: 'tcp', host: 'x', port: 0 }, { kind: 'exec', argv: ['sh', '-c', 'reboot'] }], intervalMs: 50, fall: 0, surprise: 1 } }, context);
    assert.ok(!invalid.ok);
    const fields = invalid.errors.map((error) => error.field).sort();
    assert.deepEqual(fields, ['health', 'health.checks.0', 'health.checks.1', 'health.fall', 'health.intervalMs']);
    assert.ok(!validateResourceSpec({ ...base, health: { checks: [] } }, context).ok);
    const slow = validateResourceSpec({ ...base, health: { checks: [{ kind: 'gateway' }], intervalMs: 500, timeoutMs: 800 } }, context);
    assert.ok(!slow.ok && slow.errors[0]!.field === 'health.timeoutMs');
  });
});
