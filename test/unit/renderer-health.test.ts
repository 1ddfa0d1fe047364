// The console's health checks: the Health cell from the nodes' verdicts, the form's checks and what it
// sends (add and edit), and the move dialog's hint passing over a node that fails the checks.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceSpecInputSchema, ResourceSpecPatchSchema, type NodeRecord, type ResourceView } from '../../preload/contract/domain';
import { healthKey, type HealthSpec } from '../../preload/contract/health';
import { healthCell } from '../../renderer/src/model/health-cell';
import { checkForm, emptyForm, formFromResource, toPatch, toSpecInput } from '../../renderer/src/model/resource-form';
import { likelyBestNode, moveBlocker } from '../../renderer/src/model/placement-hint';
import { node, resource } from './renderer-fixtures';

const HEALTH: HealthSpec = { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }], intervalMs: 500, timeoutMs: 200, fall: 2, rise: 2 };
const KEY = healthKey(HEALTH);

function judged(name: string, healthy: boolean | null, reason = healthy ? 'tcp 127.0.0.1:80: accepted' : 'tcp 127.0.0.1:80: connection refused'): NodeRecord {
  return { ...node(name), ...(healthy === null ? {} : { health: [{ key: KEY, healthy, reason, since: 0 }] }) };
}

function checked(owner: string | null): ResourceView {
  return { ...resource('api', '10.213.0.60', { owner }), health: HEALTH };
}

describe('the Health cell', () => {
  test('no checks: a muted dash', () => {
    assert.deepEqual(healthCell(resource('web', '10.213.0.50'), [judged('n1', false)]), { label: '—', className: '', detail: null });
  });

  test('the holder\'s verdict, its reason and where the checks pass', () => {
    assert.deepEqual(healthCell(checked('n1'), [judged('n1', true), judged('n2', true)]), { label: 'Passing', className: 'health-passing', detail: 'tcp 127.0.0.1:80: accepted · passes on n1, n2' });
    assert.deepEqual(healthCell(checked('n1'), [judged('n1', false), judged('n2', true)]), { label: 'Failing', className: 'health-failing', detail: 'tcp 127.0.0.1:80: connection refused · passes on n2' });
    const stuck = healthCell(checked('n1'), [judged('n1', false), judged('n2', false)]);
    assert.equal(stuck.label, 'Failing · stays');
    assert.match(stuck.detail ?? '', /passes on no node · fails on n1 and no other node passes: it stays on n1/);
    assert.equal(healthCell(checked('n1'), [judged('n1', null), judged('n2', true)]).label, 'Not checked yet');
    assert.equal(healthCell(checked(null), [judged('n1', false)]).label, 'Not held');
  });
});

describe('bans of the failure policy in the Health cell and the move hint', () => {
  const ban = { resource: 'web', since: 0, until: 600_000, reason: 'could not register on n1: Operation not permitted' };
  test('without checks: the banned nodes and why; with checks: the ban after the verdict', () => {
    const banned = { ...node('n1'), bans: [ban] };
    assert.deepEqual(healthCell(resource('web', '10.213.0.50', { owner: 'n2' }), [banned, node('n2')]), { label: 'n1 banned', className: 'health-unknown', detail: 'banned on n1: could not register on n1: Operation not permitted' });
    assert.deepEqual(healthCell(resource('db', '10.213.0.51'), [banned]), { label: '—', className: '', detail: null }, 'a ban of another resource is not this one\'s');
    const withChecks = healthCell({ ...checked('n2'), name: 'web' }, [{ ...judged('n1', true), bans: [ban] }, judged('n2', true)]);
    assert.equal(withChecks.label, 'Passing');
    assert.equal(withChecks.detail, 'tcp 127.0.0.1:80: accepted · passes on n1, n2 · banned on n1: could not register on n1: Operation not permitted');
  });

  test('a banned node is named as such in the move dialog and never the likely best', () => {
    const nodes = [{ ...node('n1'), bans: [ban] }, node('n2'), node('n3')];
    const web = resource('web', '10.213.0.50', { owner: 'n2' });
    assert.equal(moveBlocker(web, nodes[0]!), 'banned after failures');
    assert.equal(likelyBestNode({ ...web, preferredOwners: ['n1', 'n3'] }, nodes, new Map()), 'n3');
  });
});

describe('health checks in the resource form', () => {
  test('one check per line, the timing with its defaults; what is sent passes the contract', () => {
    const values = { ...emptyForm(), name: 'api', ip: '10.213.0.60', checks: 'tcp:127.0.0.1:80\n\nhttp://127.0.0.1/ready =204\n', checkIntervalMs: '500', checkFall: '2' };
    assert.deepEqual(checkForm(values, { existing: [], editing: null }).fields, {});
    const input = toSpecInput(values);
    assert.deepEqual(input.health, { checks: [{ kind: 'tcp', host: '127.0.0.1', port: 80 }, { kind: 'http', url: 'http://127.0.0.1/ready', expectStatus: 204 }], intervalMs: 500, timeoutMs: 500, fall: 2, rise: 2 }, 'the timeout defaults to 1 s, at most the interval');
    assert.ok(ResourceSpecInputSchema.safeParse(input).success);
    assert.equal(toSpecInput({ ...values, checks: '' }).health, undefined);
  });

  test('a bad check or timing is shown on the Checks field', () => {
    assert.match(checkForm({ ...emptyForm(), name: 'api', ip: '10.213.0.60', checks: 'tcp:nope' }, { existing: [], editing: null }).fields.health ?? '', /tcp:HOST:PORT/);
    assert.match(checkForm({ ...emptyForm(), name: 'api', ip: '10.213.0.60', checks: 'gateway', checkFall: 'three' }, { existing: [], editing: null }).fields.health ?? '', /whole numbers/);
  });

  test('an edit sends the checks only when they changed; emptied, null removes them', () => {
    const original = checked('n1');
    const values = formFromResource(original);
    assert.equal(values.checks, 'tcp:127.0.0.1:80');
    assert.deepEqual(toPatch(values, original), {});
    assert.deepEqual(toPatch({ ...values, checkRise: '5' }, original), { health: { ...HEALTH, rise: 5 } });
    const removed = toPatch({ ...values, checks: '' }, original);
    assert.deepEqual(removed, { health: null });
    assert.ok(ResourceSpecPatchSchema.safeParse(removed).success);
  });
});

describe('the move dialog\'s hint', () => {
  test('a node failing the checks, or not checked yet, is named as such and never picked', () => {
    const nodes = [judged('n1', true), judged('n2', false), judged('n3', null)];
    assert.equal(moveBlocker(checked('n1'), nodes[1]!), 'fails the health checks');
    assert.equal(moveBlocker(checked('n1'), nodes[2]!), 'health not checked yet');
    assert.equal(likelyBestNode(checked('n1'), nodes, new Map()), null);
    assert.equal(likelyBestNode(checked('n1'), [...nodes, judged('n4', true)], new Map()), 'n4');
  });
});
