// Groups (preload/contract/groups.ts): placed as one by placeBatch, an unowned member joining its group's
// node, a split group gathering, a whole group failing back, health moves taking the mates along, batches
// never splitting a group, apart-from; and the spec's group fields validated.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeName, NodeState, ResourceSpec, ResourceStatus } from '../../main/cluster/model';
import { activeGroupsOf, apartGroups, groupPreference, groupsOf } from '../../preload/contract/groups';
import { groupFactsOf, placeBatch, type NodeView } from '../../preload/contract/placement';
import { planReconcile, type ReconcileInput } from '../../main/cluster/reconcile';
import { planDrain } from '../../main/cluster/drain';
import { groupFailbackTarget, groupHome, planApart, planGathering, withGroupMates } from '../../main/cluster/group-moves';
import { nextBatches } from '../../main/cluster/move-waves';
import { afterBatchProbe, requestBatch } from '../../main/cluster/batch-machine';
import type { ProbeHeard } from '../../main/cluster/move-machine';
import { planWhatIf } from '../../main/cluster/what-if';
import { validateResourceSpec } from '../../main/cluster/validate';
import { HEALTH_DEFAULTS, healthKey, type HealthResult } from '../../preload/contract/health';

function node(name: NodeName, state: NodeState = 'up', extra: Partial<NodeView> = {}): NodeView {
  return { name, state, ...extra };
}

let nextIp = 10;
function spec(name: string, fields: Partial<ResourceSpec> = {}): ResourceSpec {
  return {
    name, ip: `10.213.0.${nextIp++}`, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {},
    enabled: true, announceForm: 'request', defendPolicy: 'always', ...fields,
  };
}

const UP3 = [node('n1'), node('n2'), node('n3')];
const byName = (specs: ResourceSpec[]): Map<string, ResourceSpec> => new Map(specs.map((s) => [s.name, s]));

/** The reconcile's input for specs and owners (resource -> node). */
function input(specs: ResourceSpec[], owners: Record<string, NodeName>, nodes: NodeView[] = UP3): ReconcileInput {
  const ownerMap = new Map(Object.entries(owners).map(([resource, owner]) => [resource, { node: owner }]));
  const statuses = new Map<string, ResourceStatus>();
  const map = byName(specs);
  return {
    specs: map,
    owners: ownerMap,
    ownedBy: (n) => new Set([...ownerMap].filter(([, o]) => o.node === n).map(([r]) => r)),
    statuses,
    nodes,
    groups: groupFactsOf(map, (resource) => ownerMap.get(resource)?.node ?? null),
  };
}

describe('group membership and preference', () => {
  test('members in name order; a disabled member constrains nothing', () => {
    const specs = [spec('outside', { group: 'gw' }), spec('inside', { group: 'gw' }), spec('db', { group: 'data', enabled: false }), spec('alone')];
    assert.deepEqual([...groupsOf(specs)].map(([g, m]) => [g, m.map((s) => s.name)]), [['data', ['db']], ['gw', ['inside', 'outside']]]);
    assert.deepEqual([...activeGroupsOf(specs).keys()], ['gw']);
  });

  test("the group's preference: first choices, then second choices, each node once", () => {
    assert.deepEqual(groupPreference([{ preferredOwners: ['n1', 'n2'] }, { preferredOwners: ['n1', 'n2'] }]), ['n1', 'n2']);
    assert.deepEqual(groupPreference([{ preferredOwners: ['n2'] }, { preferredOwners: ['n3', 'n1'] }]), ['n2', 'n3', 'n1']);
    assert.deepEqual(groupPreference([{ preferredOwners: [] }]), []);
  });

  test('apart is mutual: a group keeps off those it names and those naming it', () => {
    const groups = activeGroupsOf([spec('a1', { group: 'a', apartFrom: ['b'] }), spec('b1', { group: 'b' }), spec('c1', { group: 'c', apartFrom: ['b'] })]);
    assert.deepEqual(apartGroups('a', groups.get('a')!, groups), ['b']);
    assert.deepEqual(apartGroups('b', groups.get('b')!, groups), ['a', 'c']);
  });
});

describe('placeBatch keeps a group together', () => {
  test('a group lands on one node, by the load of the whole group, never split', () => {
    const specs = [spec('inside', { group: 'gw' }), spec('outside', { group: 'gw' }), spec('r1'), spec('r2')];
    const placed = placeBatch(specs, UP3, { n1: 0, n2: 0, n3: 0 });
    assert.equal(placed.get('inside'), placed.get('outside'));
    assert.ok(placed.get('inside') !== null);
    // Without the group the two would spread over two nodes.
    const loose = placeBatch(specs.map(({ group: _g, ...rest }) => rest), UP3, { n1: 0, n2: 0, n3: 0 });
    assert.notEqual(loose.get('inside'), loose.get('outside'));
  });

  test('only a node every member may hold: allowed, healthy, not banned', () => {
    const check = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 80 }], ...HEALTH_DEFAULTS };
    const key = healthKey(check);
    const verdict = (healthy: boolean): Map<string, HealthResult> => new Map([[key, { key, healthy, reason: healthy ? 'ok' : 'refused', since: 0 }]]);
    const specs = [spec('inside', { group: 'gw', possibleOwners: ['n1', 'n2', 'n3'] }), spec('outside', { group: 'gw', possibleOwners: ['n2', 'n3'], health: check })];
    const nodes = [node('n1', 'up', { verdicts: verdict(true) }), node('n2', 'up', { verdicts: verdict(false) }), node('n3', 'up', { verdicts: verdict(true), banned: new Set(['inside']) })];
    assert.deepEqual([...placeBatch(specs, nodes, {})], [['inside', null], ['outside', null]], 'n1 is not allowed for outside, n2 fails its checks, n3 is banned from inside');
    nodes[2] = node('n3', 'up', { verdicts: verdict(true) });
    assert.deepEqual([...placeBatch(specs, nodes, {})], [['inside', 'n3'], ['outside', 'n3']]);
  });

  test("the group's preferred node wins over the load; apart-from passes over another group's node while it can", () => {
    const gw = [spec('inside', { group: 'gw', preferredOwners: ['n2'] }), spec('outside', { group: 'gw', preferredOwners: ['n2'] })];
    assert.equal(placeBatch(gw, UP3, { n2: 50 }).get('outside'), 'n2');
    const db = [spec('db1', { group: 'db', preferredOwners: ['n2'], apartFrom: ['gw'] })];
    const facts = groupFactsOf(byName([...gw, ...db]), (r) => (r.startsWith('db') ? null : 'n2'));
    assert.equal(placeBatch(db, UP3, { n2: 2 }, [], facts).get('db1'), 'n1', 'apart from gw on n2, least loaded of the others');
    // Both unplaced in one batch: placed apart too.
    const both = placeBatch([...gw, ...db], UP3, {}, [], groupFactsOf(byName([...gw, ...db]), () => null));
    assert.notEqual(both.get('db1'), both.get('inside'));
    // When no other node may hold it, apart-from yields: it is a preference, not a rule.
    assert.equal(placeBatch(db, [node('n1', 'down'), node('n2'), node('n3', 'paused')], {}, [], facts).get('db1'), 'n2');
  });

  test('a drain moves a group to one node', () => {
    const specs = [spec('inside', { group: 'gw' }), spec('outside', { group: 'gw' }), spec('r1')];
    const owners = { inside: 'n1', outside: 'n1', r1: 'n1' };
    const plan = planDrain('n1', specs, owners, [node('n1', 'paused'), node('n2'), node('n3')], undefined, groupFactsOf(byName(specs), (r) => owners[r as keyof typeof owners] ?? null));
    const to = new Map(plan.moves.map((m) => [m.resource, m.to]));
    assert.equal(to.get('inside'), to.get('outside'));
    assert.notEqual(to.get('r1'), to.get('inside'), 'the single resource balances around the group');
  });
});

describe('reconcile: unowned members', () => {
  test('after a node died, every agent places the whole group on the same node', () => {
    const specs = [spec('inside', { group: 'gw' }), spec('outside', { group: 'gw' }), spec('a'), spec('b')];
    const nodes = [node('n1', 'down'), node('n2'), node('n3')];
    const acquiring = ['n2', 'n3'].map((me) => planReconcile(me, input(specs, {}, nodes)).actions.map((a) => a.resource));
    const holder = acquiring.findIndex((list) => list.includes('inside'));
    assert.ok(acquiring[holder]!.includes('outside'), `inside and outside on one node: ${JSON.stringify(acquiring)}`);
  });

  test("an unowned member joins the node holding its group when that node may hold it, else the group's placement takes it", () => {
    const specs = [spec('inside', { group: 'gw' }), spec('outside', { group: 'gw' }), spec('x'), spec('y')];
    assert.deepEqual(planReconcile('n3', input(specs, { inside: 'n3', x: 'n1', y: 'n2' })).actions, [{ kind: 'acquire', resource: 'outside' }], 'joins n3 though n3 is not the least loaded');
    const banned = [node('n1'), node('n2'), node('n3', 'up', { banned: new Set(['outside']) })];
    const plan = planReconcile('n1', input(specs, { inside: 'n3', x: 'n2', y: 'n2' }, banned));
    assert.deepEqual(plan.actions, [{ kind: 'acquire', resource: 'outside' }], 'n3 is banned from outside: the node that may hold both takes it (then the group gathers there)');
  });
});

describe('a split group gathers; a whole group fails back', () => {
  const specs = [spec('inside', { group: 'gw', preferredOwners: ['n1'] }), spec('outside', { group: 'gw', preferredOwners: ['n1'] }), spec('dns', { group: 'gw', preferredOwners: ['n1'] })];
  const groups = activeGroupsOf(specs);
  const facts = (owners: Record<string, NodeName>) => groupFactsOf(byName(specs), (r) => owners[r] ?? null);

  test('home: the holder of most members that may hold them all; the others move there', () => {
    const owners: Record<string, NodeName> = { inside: 'n2', outside: 'n2', dns: 'n3' };
    const ownerOf = (r: string): NodeName | null => owners[r] ?? null;
    assert.equal(groupHome(groups.get('gw')!, ownerOf, UP3, {}, facts(owners)), 'n2');
    assert.deepEqual(planGathering('n3', groups, ownerOf, UP3, {}, facts(owners)), [{ resource: 'dns', to: 'n2' }]);
    assert.deepEqual(planGathering('n2', groups, ownerOf, UP3, {}, facts(owners)), [], 'the home asks nothing');
    // n2 banned from dns: it may not hold them all, so the group gathers on n3.
    const nodes = [node('n1'), node('n2', 'up', { banned: new Set(['dns']) }), node('n3')];
    assert.deepEqual(planGathering('n2', groups, ownerOf, nodes, {}, facts(owners)), [{ resource: 'inside', to: 'n3' }, { resource: 'outside', to: 'n3' }]);
  });

  test('a group whole on one node does not gather', () => {
    const owners: Record<string, NodeName> = { inside: 'n2', outside: 'n2', dns: 'n2' };
    assert.deepEqual(planGathering('n2', groups, (r) => owners[r] ?? null, UP3, {}, facts(owners)), []);
  });

  test('failback: to the preferred node once it may hold every member, if every policy allows it now', () => {
    const owners: Record<string, NodeName> = { inside: 'n2', outside: 'n2', dns: 'n2' };
    const now = new Date(2025, 5, 15, 12);
    assert.equal(groupFailbackTarget(groups.get('gw')!, 'n2', UP3, facts(owners), now), null, "'never' on every member");
    const immediate = specs.map((s) => ({ ...s, failback: { mode: 'immediate' as const } }));
    assert.equal(groupFailbackTarget(immediate, 'n2', UP3, facts(owners), now), 'n1');
    const oneNever = immediate.map((s, i) => (i === 2 ? { ...s, failback: { mode: 'never' as const } } : s));
    assert.equal(groupFailbackTarget(oneNever, 'n2', UP3, facts(owners), now), null, 'one member that never fails back holds the group');
    const n1Banned = [node('n1', 'up', { banned: new Set(['dns']) }), node('n2'), node('n3')];
    assert.equal(groupFailbackTarget(immediate, 'n2', n1Banned, facts(owners), now), null, 'n1 may not hold dns');
  });

  test('apart-from: the group that named the other leaves their shared node, to one that holds neither', () => {
    const all = [...specs, spec('db1', { group: 'db', apartFrom: ['gw'] }), spec('db2', { group: 'db', apartFrom: ['gw'] })];
    const allGroups = activeGroupsOf(all);
    const owners: Record<string, NodeName> = { inside: 'n1', outside: 'n1', dns: 'n1', db1: 'n1', db2: 'n1' };
    const ownerOf = (r: string): NodeName | null => owners[r] ?? null;
    const allFacts = groupFactsOf(byName(all), ownerOf);
    assert.deepEqual(planApart('n1', allGroups, ownerOf, UP3, { n1: 5, n2: 1 }, allFacts), [{ resource: 'db1', to: 'n3' }, { resource: 'db2', to: 'n3' }], 'db named gw: db yields, to the least loaded other node');
    assert.deepEqual(planApart('n1', allGroups, ownerOf, [node('n1'), node('n2', 'down'), node('n3', 'paused')], {}, allFacts), [], 'nowhere else to go: they stay together');
    owners.db1 = 'n2';
    owners.db2 = 'n2';
    assert.deepEqual(planApart('n1', allGroups, ownerOf, UP3, {}, groupFactsOf(byName(all), ownerOf)), [], 'already apart');
  });

  test('health moves take the mates along; a batch never splits a group', () => {
    const owners: Record<string, NodeName> = { inside: 'n1', outside: 'n1', dns: 'n1', other: 'n1' };
    const leaving = withGroupMates([specs[1]!], groups, (r) => owners[r] ?? null, 'n1');
    assert.deepEqual(leaving.map((s) => s.name), ['dns', 'inside', 'outside']);
    const wanted = [{ resource: 'a', to: 'n2' }, { resource: 'inside', to: 'n2' }, { resource: 'b', to: 'n2' }, { resource: 'outside', to: 'n2' }, { resource: 'dns', to: 'n2' }];
    const groupOf = (r: string): string | undefined => (['inside', 'outside', 'dns'].includes(r) ? 'gw' : undefined);
    const { batches } = nextBatches(wanted, new Set(), () => false, 3, groupOf);
    assert.deepEqual(batches.map((b) => b.map((m) => m.resource)), [['a', 'b']], 'the group does not fit whole beside a: it waits for the next batch, never split');
    const first = nextBatches(wanted.slice(1), new Set(), () => false, 3, groupOf);
    assert.deepEqual(first.batches.map((b) => b.map((m) => m.resource)), [['inside', 'outside', 'dns']], 'a group that fills a batch goes whole; b waits');
    const hostile = nextBatches(wanted.slice(1), new Set(), () => false, 2, groupOf);
    assert.deepEqual(hostile.batches.map((b) => b.map((m) => m.resource)), [['inside', 'outside']], 'a group larger than a batch (only a hostile record makes one) is cut, not left unmovable');
    const some = nextBatches(wanted, new Set(), (r) => r === 'dns', 8, groupOf);
    assert.deepEqual(some.batches.flat().map((m) => m.resource), ['a', 'b'], 'a member under way holds the whole group back');
  });

  test("a batch's probe that finds a member answered by a stranger keeps the member's whole group on the owner", () => {
    const batch = requestBatch(['inside', 'outside', 'solo'], 'n1', 'n2', 'drain', 0, 'u');
    const quiet = { kind: 'quiet' as const };
    const heard = new Map<string, ProbeHeard>([['inside', { kind: 'answered', ip: '10.213.0.1', macs: ['02:66:00:00:00:66'] }], ['outside', quiet], ['solo', quiet]]);
    const groupOf = (r: string): string | undefined => (r === 'solo' ? undefined : 'gw');
    const effect = afterBatchProbe(batch, heard, [], null, groupOf);
    assert.equal(effect.type, 'write');
    const excluded = effect.type === 'write' ? effect.excluded.map((e) => `${e.resource}: ${e.detail}`) : [];
    assert.deepEqual(excluded, ['inside: conflict: 10.213.0.1 answered by 02:66:00:00:00:66; stays on n1', 'outside: its group gw stays together (inside cannot move); stays on n1']);
  });

  test('what-if: a check failing on one member moves the whole group', () => {
    const check = { checks: [{ kind: 'tcp' as const, host: '127.0.0.1', port: 80 }], ...HEALTH_DEFAULTS };
    const checked = [spec('inside', { group: 'gw', health: check }), spec('outside', { group: 'gw' })];
    const key = healthKey(check);
    const healthy = new Map<string, HealthResult>([[key, { key, healthy: true, reason: 'ok', since: 0 }]]);
    const nodes = UP3.map((n) => ({ ...n, verdicts: healthy }));
    const owners = new Map([['inside', { node: 'n1' }], ['outside', { node: 'n1' }]]);
    const result = planWhatIf({ specs: byName(checked), owners, statuses: new Map(), nodes }, { kind: 'check-fails', resource: 'inside', node: 'n1' });
    assert.ok(result.ok);
    assert.deepEqual(result.plan.moves.map((m) => m.resource), ['inside', 'outside']);
    assert.equal(result.plan.moves[0]!.to, result.plan.moves[1]!.to);
  });
});

describe('validation of the group fields', () => {
  const base = { name: 'inside', ip: '10.213.0.9/24' };
  const context = { nodes: ['n1'], existing: [] };
  const errors = (input: object): string[] => {
    const result = validateResourceSpec(input, context);
    return result.ok ? [] : result.errors.map((e) => `${e.field}: ${e.message}`);
  };

  test('a group and its apart-from list are kept; empty lists are left out', () => {
    const ok = validateResourceSpec({ ...base, group: 'gw', apartFrom: ['db'] }, context);
    assert.ok(ok.ok && ok.spec.group === 'gw' && ok.spec.apartFrom?.[0] === 'db');
    const none = validateResourceSpec({ ...base, group: 'gw', apartFrom: [] }, context);
    assert.ok(none.ok && none.spec.apartFrom === undefined);
  });

  test('hostile or wrong values are refused by field', () => {
    assert.deepEqual(errors({ ...base, group: 'g w' }), [`group: group "g w" may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit`]);
    assert.deepEqual(errors({ ...base, apartFrom: ['db'] }), ["apartFrom: apartFrom needs a group: it keeps the resource's group apart from others"]);
    assert.deepEqual(errors({ ...base, group: 'gw', apartFrom: ['gw'] }), ['apartFrom: group "gw" cannot be kept apart from itself']);
    assert.deepEqual(errors({ ...base, group: 'gw', apartFrom: ['db', 'db'] }), ['apartFrom: group "db" is named twice']);
    assert.deepEqual(errors({ ...base, group: 'gw', apartFrom: 'db' }), ['apartFrom: apartFrom must be a list of group names (got "db")']);
    assert.equal(errors({ ...base, group: 'gw', apartFrom: Array.from({ length: 17 }, (_, i) => `g${i}`) }).length, 1);
  });
});
