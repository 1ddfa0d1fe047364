// `ipfo plan`: what the cluster would do on an event, from the planners the agents run — a node down (the
// takeover's placement), a pause (the drain), a check failing (the owner's health moves) — and the
// CLI's reading and printing of it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { healthKey, verdictsOf, type HealthSpec } from '../../preload/contract/health';
import { WhatIfPlanSchema } from '../../preload/contract/protocol';
import type { NodeView } from '../../preload/contract/placement';
import type { ResourceSpec } from '../../main/cluster/model';
import { planWhatIf, type WhatIfInput } from '../../main/cluster/what-if';
import '../../main/cli/args';
import { parseClusterCommand } from '../../main/cli/cluster-args';
import { formatPlan } from '../../main/cli/format';

const HEALTH: HealthSpec = { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2 };

function spec(name: string, extra: Partial<ResourceSpec> = {}): ResourceSpec {
  return { name, ip: `10.213.0.${10 + name.length}`, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {}, enabled: true, announceForm: 'request', defendPolicy: 'always', ...extra };
}

function node(name: string, healthy: boolean | null = null, state: NodeView['state'] = 'up'): NodeView {
  return { name, state, verdicts: verdictsOf(healthy === null ? [] : [{ key: healthKey(HEALTH), healthy, reason: '', since: 0 }]) };
}

function input(specs: ResourceSpec[], owners: Record<string, string>, nodes: NodeView[]): WhatIfInput {
  return { specs: new Map(specs.map((s) => [s.name, s])), owners: new Map(Object.entries(owners).map(([resource, owner]) => [resource, { node: owner }])), statuses: new Map(), nodes };
}

describe('what the cluster would do', () => {
  const specs = [spec('a'), spec('bb'), spec('ccc', { possibleOwners: ['n1'] }), spec('dddd', { preferredOwners: ['n3', 'n2'] }), spec('off', { enabled: false })];
  const owners = { a: 'n1', bb: 'n1', ccc: 'n1', dddd: 'n1', off: 'n1' };
  const nodes = [node('n1'), node('n2'), node('n3')];

  test('a node down: its addresses spread over the others as the takeover places them; one no node may hold goes offline', () => {
    const result = planWhatIf(input(specs, { ...owners, e: 'n2' }, nodes), { kind: 'node-down', node: 'n1' });
    assert.ok(result.ok);
    assert.deepEqual(result.plan, {
      // dddd to its preferred n3 first, then a and bb balanced around it (n2 holds e already).
      moves: [{ resource: 'a', from: 'n1', to: 'n2' }, { resource: 'bb', from: 'n1', to: 'n3' }, { resource: 'dddd', from: 'n1', to: 'n3' }],
      stays: [],
      offline: [{ resource: 'ccc', from: 'n1', why: 'no other live node may hold it' }],
    });
    assert.ok(WhatIfPlanSchema.safeParse(result.plan).success);
  });

  test('a pause: the drain; what cannot move stays on the paused node', () => {
    const result = planWhatIf(input(specs, owners, nodes), { kind: 'pause', node: 'n1' });
    assert.ok(result.ok);
    assert.deepEqual(result.plan.stays, [{ resource: 'ccc', node: 'n1', why: 'no other live node may hold it' }]);
    assert.deepEqual(result.plan.moves.map((m) => `${m.resource}->${m.to}`), ['a->n2', 'bb->n2', 'dddd->n3']);
  });

  test('a check failing: every resource of that profile on the node moves to a node that passes, or stays when none does', () => {
    const checked = [spec('web', { health: HEALTH }), spec('www', { health: HEALTH }), spec('api', { health: { ...HEALTH, fall: 5 } }), spec('plain')];
    const held = { web: 'n1', www: 'n1', api: 'n1', plain: 'n1' };
    const passing = planWhatIf(input(checked, held, [node('n1', true), node('n2', false), node('n3', true)]), { kind: 'check-fails', resource: 'web', node: 'n1' });
    assert.ok(passing.ok);
    assert.deepEqual(passing.plan, { moves: [{ resource: 'web', from: 'n1', to: 'n3' }, { resource: 'www', from: 'n1', to: 'n3' }], stays: [], offline: [] });
    const nowhere = planWhatIf(input(checked, held, [node('n1', true), node('n2', false), node('n3', null)]), { kind: 'check-fails', resource: 'www', node: 'n1' });
    assert.ok(nowhere.ok);
    assert.deepEqual(nowhere.plan.stays.map((s) => `${s.resource}: ${s.why}`), ['web: no other node passes its health checks', 'www: no other node passes its health checks']);
    const elsewhere = planWhatIf(input(checked, { ...held, web: 'n2', www: 'n2' }, [node('n1', true), node('n2', true), node('n3', true)]), { kind: 'check-fails', resource: 'web', node: 'n1' });
    assert.ok(elsewhere.ok);
    assert.deepEqual(elsewhere.plan, { moves: [], stays: [], offline: [] }, 'n1 holds none of them: nothing moves');
  });

  test('bad scenarios are named: an unknown node or resource, a resource without checks; a node already down or paused changes nothing', () => {
    assert.deepEqual(planWhatIf(input(specs, owners, nodes), { kind: 'pause', node: 'n9' }), { ok: false, field: 'node', message: 'no node named "n9"' });
    assert.deepEqual(planWhatIf(input(specs, owners, nodes), { kind: 'check-fails', resource: 'zz', node: 'n1' }), { ok: false, field: 'resource', message: 'no resource named "zz"' });
    assert.deepEqual(planWhatIf(input(specs, owners, nodes), { kind: 'check-fails', resource: 'a', node: 'n1' }), { ok: false, field: 'resource', message: 'a has no health checks (add them with --check)' });
    assert.deepEqual(planWhatIf(input(specs, owners, [node('n1', null, 'down'), node('n2')]), { kind: 'node-down', node: 'n1' }), { ok: true, plan: { moves: [], stays: [], offline: [] } });
  });
});

describe('ipfo plan', () => {
  test('exactly one event; RESOURCE@NODE for a check', () => {
    assert.deepEqual(parseClusterCommand('plan', ['--node-down', 'n1']).op, { kind: 'plan', scenario: { kind: 'node-down', node: 'n1' } });
    assert.deepEqual(parseClusterCommand('plan', ['--pause', 'n2', '--json']).op, { kind: 'plan', scenario: { kind: 'pause', node: 'n2' } });
    assert.deepEqual(parseClusterCommand('plan', ['--check-fails', 'web@n1']).op, { kind: 'plan', scenario: { kind: 'check-fails', resource: 'web', node: 'n1' } });
    assert.throws(() => parseClusterCommand('plan', []), /give exactly one of/);
    assert.throws(() => parseClusterCommand('plan', ['--pause', 'n1', '--node-down', 'n2']), /give exactly one of/);
    assert.throws(() => parseClusterCommand('plan', ['--check-fails', 'web']), /RESOURCE@NODE/);
    assert.throws(() => parseClusterCommand('plan', ['--pause', 'bad name']), /node name/);
  });

  test('printed: the event, then each address with where it is and what would happen', () => {
    assert.deepEqual(
      formatPlan({ kind: 'node-down', node: 'n1' }, { moves: [{ resource: 'web', from: 'n1', to: 'n2' }], stays: [], offline: [{ resource: 'db', from: 'n1', why: 'no other live node may hold it' }] }),
      ['if n1 went down:', 'RESOURCE  NOW ON  THEN', 'db        n1      goes offline: no other live node may hold it', 'web       n1      moves to n2'],
    );
    assert.deepEqual(formatPlan({ kind: 'check-fails', resource: 'web', node: 'n2' }, { moves: [], stays: [], offline: [] }), ["if web's health checks failed on n2: nothing would move"]);
  });
});
