import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailbackPolicy, NodeName, NodeState, ResourceSpec, ResourceStatus } from '../../main/cluster/model';
import { bestNode, compareNames, countLoads, eligibleNodes, placeBatch, type NodeView, type Owners } from '../../preload/contract/placement';
import { failbackAllowedAt, failbackTarget, isWithinWindow, shouldFailback } from '../../main/cluster/failback';
import { planDrain } from '../../main/cluster/drain';
import { planReconcile, type ReconcileInput } from '../../main/cluster/reconcile';

function node(name: NodeName, state: NodeState = 'up'): NodeView {
  return { name, state };
}

function spec(name: string, fields: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    name, ip: '10.213.0.50', prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {},
    enabled: true, announceForm: 'request', defendPolicy: 'always', ...fields,
  };
}

function status(name: string, fields: Partial<ResourceStatus> = {}): ResourceStatus {
  return { name, state: 'online', owner: null, ownerMac: null, since: 0, failure: null, lastHandoffMs: null, ...fields };
}

const UP3 = [node('n1'), node('n2'), node('n3')];

/** A local time on a fixed day: the window rules read local hours. */
function at(hour: number, minute = 0, second = 0): Date {
  return new Date(2025, 5, 15, hour, minute, second);
}

describe('eligibleNodes', () => {
  test('every up node when possibleOwners is empty, in name order whatever the input order', () => {
    assert.deepEqual(eligibleNodes(spec('r'), [node('n3'), node('n1'), node('n2')]).map((n) => n.name), ['n1', 'n2', 'n3']);
  });

  test('down and paused nodes are not eligible', () => {
    const nodes = [node('n1', 'down'), node('n2', 'paused'), node('n3')];
    assert.deepEqual(eligibleNodes(spec('r'), nodes).map((n) => n.name), ['n3']);
  });

  test('possibleOwners restricts; names of nodes that do not exist change nothing', () => {
    assert.deepEqual(eligibleNodes(spec('r', { possibleOwners: ['n2', 'n9'] }), UP3).map((n) => n.name), ['n2']);
    assert.deepEqual(eligibleNodes(spec('r', { possibleOwners: ['n9'] }), UP3), []);
  });

  test('no nodes, no eligible node', () => {
    assert.deepEqual(eligibleNodes(spec('r'), []), []);
  });
});

describe('bestNode', () => {
  const preferring = spec('r', { preferredOwners: ['n3', 'n1'] });

  test('the first live preferred owner in the operator order, whatever its load', () => {
    assert.equal(bestNode(preferring, UP3, { loads: { n3: 500, n1: 0, n2: 0 } }), 'n3');
  });

  test('skips a preferred owner that is down, paused, excluded or not allowed', () => {
    assert.equal(bestNode(preferring, [node('n1'), node('n2'), node('n3', 'down')]), 'n1');
    assert.equal(bestNode(preferring, [node('n1'), node('n2'), node('n3', 'paused')]), 'n1');
    assert.equal(bestNode(preferring, UP3, { exclude: ['n3'] }), 'n1');
    assert.equal(bestNode({ ...preferring, possibleOwners: ['n1', 'n2'] }, UP3), 'n1');
  });

  test('with no live preferred owner, the least loaded eligible node', () => {
    assert.equal(bestNode(preferring, [node('n1', 'down'), node('n2'), node('n3', 'paused'), node('n4')], { loads: { n2: 3, n4: 2 } }), 'n4');
    assert.equal(bestNode(spec('r'), UP3, { loads: { n1: 5, n2: 1, n3: 2 } }), 'n2');
  });

  test('a node missing from loads holds nothing', () => {
    assert.equal(bestNode(spec('r'), UP3, { loads: { n1: 1, n2: 1 } }), 'n3');
  });

  test('ties go to the first name in code-unit order, not locale order', () => {
    assert.equal(bestNode(spec('r'), [node('n2'), node('n10'), node('n1')]), 'n1');
    assert.equal(bestNode(spec('r'), [node('n2'), node('n10')]), 'n10');
    assert.equal(bestNode(spec('r'), [node('b'), node('B'), node('a')]), 'B');
    assert.equal(bestNode(spec('r'), UP3, { loads: { n1: 1 } }), 'n2');
    assert.equal(compareNames('B', 'a'), -1);
    assert.equal(compareNames('a', 'a'), 0);
  });

  test('exclude applies to the least-loaded choice too', () => {
    assert.equal(bestNode(spec('r'), UP3, { exclude: ['n1'] }), 'n2');
    assert.equal(bestNode(spec('r'), UP3, { exclude: ['n1', 'n2'], loads: { n3: 100 } }), 'n3');
  });

  test('null when no node is eligible', () => {
    assert.equal(bestNode(spec('r'), []), null);
    assert.equal(bestNode(spec('r'), [node('n1', 'down'), node('n2', 'paused')]), null);
    assert.equal(bestNode(spec('r', { possibleOwners: ['n1'] }), UP3, { exclude: ['n1'] }), null);
    assert.equal(bestNode(spec('r'), UP3, { exclude: ['n1', 'n2', 'n3'] }), null);
  });

  test('nodes named like Object.prototype members are ordinary nodes', () => {
    const nodes = [node('constructor'), node('toString')];
    assert.equal(bestNode(spec('r'), nodes, { loads: { toString: 1 } }), 'constructor');
    assert.equal(bestNode(spec('r'), nodes, { loads: { constructor: 1 } }), 'toString');
    assert.deepEqual(countLoads({ a: 'constructor', b: 'constructor', c: null }), { constructor: 2 });
  });
});

describe('countLoads', () => {
  test('counts owned resources per node, ignoring unowned ones', () => {
    assert.deepEqual(countLoads({ a: 'n1', b: 'n2', c: 'n1', d: null }), { n1: 2, n2: 1 });
    assert.deepEqual(countLoads({}), {});
  });
});

describe('failback windows', () => {
  const window = (startHour: number, endHour: number): Extract<FailbackPolicy, { mode: 'window' }> => ({ mode: 'window', startHour, endHour });
  // [start, end, hours inside]
  const cases: Array<[number, number, number[]]> = [
    [1, 5, [1, 2, 3, 4]],
    [22, 6, [22, 23, 0, 1, 2, 3, 4, 5]],
    [23, 0, [23]],
    [0, 23, Array.from({ length: 23 }, (_, h) => h)],
    [23, 22, [23, ...Array.from({ length: 22 }, (_, h) => h)]],
    [0, 1, [0]],
  ];
  for (const [start, end, inside] of cases) {
    test(`${start}..${end} allows exactly hours ${inside.join(',')}`, () => {
      for (let hour = 0; hour < 24; hour++) {
        assert.equal(isWithinWindow(window(start, end), hour), inside.includes(hour), `hour ${hour}`);
      }
    });
  }

  test('edges by the minute in local time: start included, end excluded', () => {
    const wrap = window(22, 6);
    assert.equal(failbackAllowedAt(wrap, at(21, 59, 59)), false);
    assert.equal(failbackAllowedAt(wrap, at(22, 0, 0)), true);
    assert.equal(failbackAllowedAt(wrap, at(23, 59, 59)), true);
    assert.equal(failbackAllowedAt(wrap, at(0, 0, 0)), true);
    assert.equal(failbackAllowedAt(wrap, at(5, 59, 59)), true);
    assert.equal(failbackAllowedAt(wrap, at(6, 0, 0)), false);
    assert.equal(failbackAllowedAt(wrap, at(12, 0, 0)), false);
  });

  test('never and immediate ignore the time', () => {
    for (const hour of [0, 6, 12, 23]) {
      assert.equal(failbackAllowedAt({ mode: 'never' }, at(hour)), false);
      assert.equal(failbackAllowedAt({ mode: 'immediate' }, at(hour)), true);
    }
  });
});

describe('shouldFailback and failbackTarget', () => {
  const immediate = spec('r', { preferredOwners: ['n1', 'n2'], failback: { mode: 'immediate' } });

  test('back to the first preferred owner when it is live and ranks before the owner', () => {
    assert.equal(failbackTarget(immediate, 'n2', UP3, at(12)), 'n1');
    assert.equal(shouldFailback(immediate, 'n2', UP3, at(12)), true);
  });

  test('an owner outside the preferred list ranks last', () => {
    assert.equal(failbackTarget(immediate, 'n3', UP3, at(12)), 'n1');
    assert.equal(failbackTarget(immediate, 'n3', [node('n1', 'down'), node('n2'), node('n3')], at(12)), 'n2');
  });

  test('no failback when the owner is already the best live preferred owner', () => {
    assert.equal(shouldFailback(immediate, 'n1', UP3, at(12)), false);
    assert.equal(shouldFailback(immediate, 'n2', [node('n1', 'down'), node('n2'), node('n3')], at(12)), false);
    assert.equal(shouldFailback(immediate, 'n2', [node('n1', 'paused'), node('n2'), node('n3')], at(12)), false);
  });

  test('no failback without preferred owners, or without a live one', () => {
    assert.equal(shouldFailback(spec('r', { failback: { mode: 'immediate' } }), 'n2', UP3, at(12)), false);
    assert.equal(shouldFailback(immediate, 'n3', [node('n1', 'down'), node('n2', 'paused'), node('n3')], at(12)), false);
  });

  test('no failback for an unowned resource or an owner that is not live (failover and drain handle those)', () => {
    assert.equal(shouldFailback(immediate, null, UP3, at(12)), false);
    assert.equal(shouldFailback(immediate, 'n3', [node('n1'), node('n2'), node('n3', 'down')], at(12)), false);
    assert.equal(shouldFailback(immediate, 'n3', [node('n1'), node('n2'), node('n3', 'paused')], at(12)), false);
    assert.equal(shouldFailback(immediate, 'n9', UP3, at(12)), false);
  });

  test('an owner the operator no longer allows is not failed back to a lower-ranked node', () => {
    const edited = { ...immediate, possibleOwners: ['n2', 'n3'] };
    assert.equal(shouldFailback(edited, 'n1', UP3, at(12)), false);
  });

  test('policy never: no failback even when the preferred owner is back', () => {
    assert.equal(shouldFailback({ ...immediate, failback: { mode: 'never' } }, 'n2', UP3, at(12)), false);
  });

  test('policy window: only inside the window, including across midnight', () => {
    const nightly = { ...immediate, failback: { mode: 'window', startHour: 22, endHour: 6 } } satisfies ResourceSpec;
    const expected: Array<[Date, boolean]> = [
      [at(21, 59), false], [at(22, 0), true], [at(23, 30), true], [at(0, 0), true], [at(5, 59), true], [at(6, 0), false], [at(14, 0), false],
    ];
    for (const [now, allowed] of expected) {
      assert.equal(shouldFailback(nightly, 'n2', UP3, now), allowed, now.toString());
      assert.equal(failbackTarget(nightly, 'n2', UP3, now), allowed ? 'n1' : null);
    }
  });
});

describe('placeBatch', () => {
  test('the most constrained resources are placed first, so the flexible ones balance around them', () => {
    // In name order, "a" (n2 or n3) would take n2 and leave "b" (n2 only) to make n2 hold both.
    const placed = placeBatch([spec('a', { possibleOwners: ['n2', 'n3'] }), spec('b', { possibleOwners: ['n2'] })], UP3, {}, ['n1']);
    assert.deepEqual([...placed].sort(), [['a', 'n3'], ['b', 'n2']]);
  });

  test('preferred placements count before the balanced ones', () => {
    const specs = [spec('a'), spec('b'), spec('z', { preferredOwners: ['n1'] })];
    const placed = placeBatch(specs, [node('n1'), node('n2')], {});
    assert.deepEqual([...placed].sort(), [['a', 'n2'], ['b', 'n1'], ['z', 'n1']]);
  });

  test('does not change the loads it is given', () => {
    const loads = { n1: 1 };
    placeBatch([spec('a'), spec('b')], UP3, loads);
    assert.deepEqual(loads, { n1: 1 });
  });
});

function resources(count: number, fields: Partial<ResourceSpec> = {}): ResourceSpec[] {
  return Array.from({ length: count }, (_, i) => spec(`r${String(i).padStart(4, '0')}`, fields));
}

function allOwnedBy(specs: readonly ResourceSpec[], owner: NodeName): Record<string, NodeName> {
  return Object.fromEntries(specs.map((s) => [s.name, owner]));
}

function tally(moves: ReadonlyArray<{ to: NodeName }>): Record<NodeName, number> {
  const counts: Record<NodeName, number> = {};
  for (const move of moves) counts[move.to] = (counts[move.to] ?? 0) + 1;
  return counts;
}

describe('planDrain', () => {
  test('1,000 resources spread over the 3 remaining nodes within ±1', () => {
    const specs = resources(1000);
    const nodes = [node('n1', 'paused'), node('n2'), node('n3'), node('n4')];
    const plan = planDrain('n1', specs, allOwnedBy(specs, 'n1'), nodes);
    assert.equal(plan.failures.length, 0);
    assert.equal(plan.moves.length, 1000);
    assert.ok(plan.moves.every((move) => move.from === 'n1' && move.to !== 'n1'));
    assert.deepEqual(new Set(plan.moves.map((move) => move.resource)).size, 1000);
    assert.deepEqual(tally(plan.moves), { n2: 334, n3: 333, n4: 333 });
  });

  test('with unequal starting loads, the totals end within ±1', () => {
    const specs = resources(1000);
    const nodes = [node('n1'), node('n2'), node('n3'), node('n4')];
    const plan = planDrain('n1', specs, allOwnedBy(specs, 'n1'), nodes, { n1: 1000, n2: 40, n3: 10, n4: 0 });
    const moved = tally(plan.moves);
    const totals = [40 + (moved.n2 ?? 0), 10 + (moved.n3 ?? 0), moved.n4 ?? 0];
    assert.equal(totals.reduce((a, b) => a + b), 1050);
    assert.ok(Math.max(...totals) - Math.min(...totals) <= 1, JSON.stringify(totals));
  });

  test('loads default to the counts in the ownership map', () => {
    const specs = resources(4);
    const owners = { ...allOwnedBy(specs, 'n1'), other1: 'n2', other2: 'n2' };
    const plan = planDrain('n1', specs, owners, UP3);
    assert.deepEqual(tally(plan.moves), { n2: 1, n3: 3 });
  });

  test('preferred owners are honoured; the rest balance around them', () => {
    const specs = [...resources(4), spec('pinned1', { preferredOwners: ['n2'] }), spec('pinned2', { preferredOwners: ['n2'] })];
    const plan = planDrain('n1', specs, allOwnedBy(specs, 'n1'), UP3);
    const destination = Object.fromEntries(plan.moves.map((move) => [move.resource, move.to]));
    assert.equal(destination.pinned1, 'n2');
    assert.equal(destination.pinned2, 'n2');
    assert.deepEqual(tally(plan.moves), { n2: 3, n3: 3 });
  });

  test('a preferred list headed by the drained node falls to the next preferred owner', () => {
    const specs = [spec('r', { preferredOwners: ['n1', 'n3'] })];
    assert.deepEqual(planDrain('n1', specs, { r: 'n1' }, UP3).moves, [{ resource: 'r', from: 'n1', to: 'n3' }]);
  });

  test('a resource with no eligible node stays, reported as a failure', () => {
    const specs = [spec('only-n1', { possibleOwners: ['n1'] }), spec('n1-or-n2', { possibleOwners: ['n1', 'n2'] }), spec('anywhere')];
    const nodes = [node('n1'), node('n2', 'down'), node('n3')];
    const plan = planDrain('n1', specs, allOwnedBy(specs, 'n1'), nodes);
    assert.deepEqual(plan.moves, [{ resource: 'anywhere', from: 'n1', to: 'n3' }]);
    assert.deepEqual(plan.failures, [
      { resource: 'n1-or-n2', reason: { kind: 'no-eligible-node' } },
      { resource: 'only-n1', reason: { kind: 'no-eligible-node' } },
    ]);
  });

  test('down and paused nodes receive nothing; with no other live node everything fails', () => {
    const specs = resources(5);
    const nodes = [node('n1'), node('n2', 'down'), node('n3', 'paused')];
    const plan = planDrain('n1', specs, allOwnedBy(specs, 'n1'), nodes);
    assert.deepEqual(plan.moves, []);
    assert.equal(plan.failures.length, 5);
  });

  test('only the drained node’s enabled resources move', () => {
    const specs = [spec('mine'), spec('mine-disabled', { enabled: false }), spec('theirs'), spec('unowned')];
    const plan = planDrain('n1', specs, { mine: 'n1', 'mine-disabled': 'n1', theirs: 'n2', unowned: null }, UP3);
    assert.deepEqual(plan.moves.map((move) => move.resource), ['mine']);
    assert.deepEqual(plan.failures, []);
  });

  test('the plan does not depend on the order of the specs', () => {
    const specs = [...resources(30), spec('c', { possibleOwners: ['n2'] })];
    const owners = allOwnedBy(specs, 'n1');
    const forward = planDrain('n1', specs, owners, UP3);
    const backward = planDrain('n1', [...specs].reverse(), owners, [...UP3].reverse());
    assert.deepEqual(backward, forward);
    assert.deepEqual(forward.moves.map((m) => m.resource), [...forward.moves.map((m) => m.resource)].sort());
  });
});

/** The planner's input from plain lists, as the agent's view holds it (an owner of null = no entry). */
function reconcileInput(specs: ResourceSpec[], owners: Owners, statuses: ResourceStatus[], nodes: NodeView[]): ReconcileInput {
  const owned = Object.entries(owners).flatMap(([resource, node]) => (node === null ? [] : [[resource, { node }] as const]));
  return {
    specs: new Map(specs.map((s) => [s.name, s])),
    owners: new Map(owned),
    ownedBy: (node) => new Set(owned.filter(([, owner]) => owner.node === node).map(([resource]) => resource)),
    statuses: new Map(statuses.map((s) => [s.name, s])),
    nodes,
  };
}

describe('planReconcile', () => {
  test('holds exactly its owned, enabled, allowed resources that have not failed', () => {
    const specs = [spec('b'), spec('a'), spec('off', { enabled: false }), spec('bad'), spec('theirs'), spec('moved-away', { possibleOwners: ['n2'] })];
    const owners: Owners = { a: 'n1', b: 'n1', off: 'n1', bad: 'n1', gone: 'n1', theirs: 'n2', 'moved-away': 'n1' };
    const statuses = [status('bad', { state: 'failed', owner: 'n1', failure: { kind: 'conflict', mac: '02:00:00:00:00:99' } })];
    const plan = planReconcile('n1', reconcileInput(specs, owners, statuses, UP3));
    assert.deepEqual(plan.hold, ['a', 'b']);
    assert.deepEqual(plan.actions, [
      { kind: 'release', resource: 'bad', reason: 'failed' },
      { kind: 'release', resource: 'gone', reason: 'removed' },
      { kind: 'release', resource: 'moved-away', reason: 'not-allowed' },
      { kind: 'release', resource: 'off', reason: 'disabled' },
    ]);
    assert.deepEqual(plan.unplaceable, []);
  });

  test('acquires an unowned enabled resource when it is the best node, and only then', () => {
    const specs = [spec('to-n1', { preferredOwners: ['n1'] }), spec('to-n2', { preferredOwners: ['n2'] })];
    assert.deepEqual(planReconcile('n1', reconcileInput(specs, {}, [], UP3)).actions, [{ kind: 'acquire', resource: 'to-n1' }]);
    assert.deepEqual(planReconcile('n2', reconcileInput(specs, { 'to-n1': null }, [], UP3)).actions, [{ kind: 'acquire', resource: 'to-n2' }]);
    assert.deepEqual(planReconcile('n3', reconcileInput(specs, {}, [], UP3)).actions, []);
  });

  test('never acquires a disabled resource, nor one another node owns (even a down one)', () => {
    const specs = [spec('off', { enabled: false }), spec('held', { preferredOwners: ['n1'] })];
    const nodes = [node('n1'), node('n2', 'down')];
    const plan = planReconcile('n1', reconcileInput(specs, { held: 'n2' }, [], nodes));
    assert.deepEqual(plan, { hold: [], actions: [], unplaceable: [] });
  });

  test('a paused or down node acquires nothing but keeps holding what it owns', () => {
    const specs = [spec('kept'), spec('new')];
    for (const state of ['paused', 'down'] as const) {
      const plan = planReconcile('n1', reconcileInput(specs, { kept: 'n1' }, [], [node('n1', state), node('n2')]));
      assert.deepEqual(plan.hold, ['kept']);
      assert.deepEqual(plan.actions, []);
    }
    assert.deepEqual(planReconcile('n2', reconcileInput(specs, { kept: 'n1' }, [], [node('n1', 'paused'), node('n2')])).actions, [{ kind: 'acquire', resource: 'new' }]);
  });

  test('many unowned resources: every node computes the same even split and takes only its share', () => {
    const specs = resources(300);
    const owners: Owners = Object.fromEntries(specs.map((s) => [s.name, null]));
    const plans = UP3.map((n) => planReconcile(n.name, reconcileInput(specs, owners, [], UP3)));
    assert.ok(plans.every((plan) => plan.actions.every((action) => action.kind === 'acquire')));
    const shares = plans.map((plan) => plan.actions.map((action) => action.resource));
    assert.deepEqual(shares.map((share) => share.length), [100, 100, 100]);
    assert.equal(new Set(shares.flat()).size, 300);
  });

  test('the split accounts for what nodes already hold', () => {
    const specs = resources(6);
    const owners: Owners = { x1: 'n1', x2: 'n1', x3: 'n1' };
    const counts = UP3.map((n) => planReconcile(n.name, reconcileInput([...specs, spec('x1'), spec('x2'), spec('x3')], owners, [], UP3)).actions.length);
    assert.deepEqual(counts, [0, 3, 3]);
  });

  test('a failed resource waits for the operator, unless it failed for want of an eligible node', () => {
    const specs = [spec('conflicted'), spec('stranded'), spec('missing-if')];
    const statuses = [
      status('conflicted', { state: 'failed', failure: { kind: 'conflict', mac: '02:00:00:00:00:99' } }),
      status('stranded', { state: 'failed', failure: { kind: 'no-eligible-node' } }),
      status('missing-if', { state: 'failed', failure: { kind: 'interface-missing', node: 'n1', detail: 'no eth1' } }),
    ];
    const plan = planReconcile('n1', reconcileInput(specs, {}, statuses, [node('n1')]));
    assert.deepEqual(plan.actions, [{ kind: 'acquire', resource: 'stranded' }]);
    assert.deepEqual(plan.unplaceable, []);
  });

  test('unplaceable: enabled, unowned, not yet failed, and no node eligible', () => {
    const specs = [spec('nowhere', { possibleOwners: ['n3'] }), spec('already-failed', { possibleOwners: ['n3'] }), spec('off', { enabled: false, possibleOwners: ['n3'] })];
    const statuses = [status('already-failed', { state: 'failed', failure: { kind: 'no-eligible-node' } })];
    const nodes = [node('n1'), node('n2'), node('n3', 'down')];
    for (const me of ['n1', 'n2']) {
      const plan = planReconcile(me, reconcileInput(specs, {}, statuses, nodes));
      assert.deepEqual(plan.unplaceable, [{ resource: 'nowhere', failure: { kind: 'no-eligible-node' } }]);
      assert.deepEqual(plan.actions, []);
    }
  });

  test('releases come before acquisitions', () => {
    const specs = [spec('a-new', { preferredOwners: ['n1'] }), spec('z-off', { enabled: false })];
    const plan = planReconcile('n1', reconcileInput(specs, { 'z-off': 'n1' }, [], UP3));
    assert.deepEqual(plan.actions.map((action) => action.kind), ['release', 'acquire']);
  });
});
