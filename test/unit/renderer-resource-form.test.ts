// The resource form: local checks, the request it sends, and the agent's issues placed on fields.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceSpecInputSchema, ResourceSpecPatchSchema } from '../../preload/contract/domain';
import {
  checkForm,
  emptyForm,
  formFieldOf,
  formFromResource,
  hasErrors,
  issuesToFormErrors,
  toPatch,
  toSpecInput,
  type ResourceFormValues,
} from '../../renderer/src/model/resource-form';
import { resource } from './renderer-fixtures';

const EXISTING = [resource('web', '10.213.0.50'), resource('db', '10.213.0.51')];

function form(values: Partial<ResourceFormValues>): ResourceFormValues {
  return { ...emptyForm(), name: 'mail', ip: '10.213.0.60', ...values };
}

function fieldsOf(values: Partial<ResourceFormValues>, editing: string | null = null): Record<string, string | undefined> {
  return checkForm(form(values), { existing: EXISTING, editing }).fields;
}

describe('local checks', () => {
  test('a complete, plausible definition passes', () => {
    assert.equal(hasErrors(checkForm(form({}), { existing: EXISTING, editing: null })), false);
    assert.equal(hasErrors(checkForm(form({ ip: '10.213.0.60/16', prefix: 'junk' }), { existing: EXISTING, editing: null })), false, 'the prefix in the address wins');
  });

  test('name: required, pattern, length, unique ignoring case', () => {
    assert.match(fieldsOf({ name: '  ' }).name ?? '', /required/);
    assert.match(fieldsOf({ name: '-web' }).name ?? '', /letters, digits/);
    assert.match(fieldsOf({ name: 'a'.repeat(64) }).name ?? '', /63/);
    assert.match(fieldsOf({ name: 'WEB' }).name ?? '', /exists already/);
    assert.equal(fieldsOf({ name: 'WEB', ip: '10.213.0.50' }, 'web').name, undefined, 'not checked while editing (cannot be renamed)');
  });

  test('address and prefix', () => {
    assert.match(fieldsOf({ ip: '' }).ip ?? '', /required/);
    assert.match(fieldsOf({ ip: '10.213.0.300' }).ip ?? '', /not an IPv4 address/);
    assert.match(fieldsOf({ ip: '10.213.0.51' }).ip ?? '', /belongs to resource "db"/);
    assert.equal(fieldsOf({ ip: '10.213.0.50' }, 'web').ip, undefined, 'its own address while editing');
    assert.match(fieldsOf({ prefix: '33' }).prefix ?? '', /1\.\.32/);
    assert.match(fieldsOf({ prefix: '2.5' }).prefix ?? '', /1\.\.32/);
    assert.match(fieldsOf({ ip: '10.213.0.60/0' }).ip ?? '', /prefix length/);
  });

  test('owner lists, failback window and interfaces', () => {
    assert.match(fieldsOf({ possibleOwners: 'n1, n1' }).possibleOwners ?? '', /twice/);
    assert.match(fieldsOf({ possibleOwners: 'n1', preferredOwners: 'n2' }).preferredOwners ?? '', /not a possible owner/);
    assert.equal(fieldsOf({ possibleOwners: '', preferredOwners: 'n2' }).preferredOwners, undefined, 'empty possible owners = every node');
    const window = fieldsOf({ failbackMode: 'window', startHour: '24', endHour: 'x' });
    assert.match(window['failback.startHour'] ?? '', /0\.\.23/);
    assert.match(window['failback.endHour'] ?? '', /0\.\.23/);
    assert.match(fieldsOf({ failbackMode: 'window', startHour: '6', endHour: '6' })['failback.endHour'] ?? '', /same hour/);
    assert.equal(fieldsOf({ failbackMode: 'never', startHour: 'junk' })['failback.startHour'], undefined, 'hours only matter for a window');
    assert.match(fieldsOf({ interfaces: 'n1=eth1 n2' }).interfaces ?? '', /node=interface/);
    assert.match(fieldsOf({ interfaces: 'n1=eth1, n1=eth2' }).interfaces ?? '', /twice/);
  });
});

describe('what is sent', () => {
  test('resource.add gets a definition the contract accepts', () => {
    const spec = toSpecInput(form({ ip: '10.213.0.60/25', possibleOwners: 'n1 n2', preferredOwners: 'n2,n1', failbackMode: 'window', startHour: '22', endHour: '6', interfaces: 'n1=eth1, n2=ens3', enabled: false, defendPolicy: 'once' }));
    assert.deepEqual(spec, {
      name: 'mail',
      ip: '10.213.0.60',
      prefix: 25,
      possibleOwners: ['n1', 'n2'],
      preferredOwners: ['n2', 'n1'],
      failback: { mode: 'window', startHour: 22, endHour: 6 },
      interfaces: { n1: 'eth1', n2: 'ens3' },
      enabled: false,
      announceForm: 'request',
      defendPolicy: 'once',
    });
    assert.ok(ResourceSpecInputSchema.safeParse(spec).success);
  });

  test('resource.edit gets only what changed', () => {
    const original = resource('web', '10.213.0.50', { possibleOwners: ['n1', 'n2'] });
    const values = formFromResource(original);
    assert.deepEqual(toPatch(values, original), {}, 'an untouched form changes nothing');
    const patch = toPatch({ ...values, ip: '10.213.0.70/26', defendPolicy: 'never', possibleOwners: 'n2' }, original);
    assert.deepEqual(patch, { ip: '10.213.0.70', prefix: 26, possibleOwners: ['n2'], defendPolicy: 'never' });
    assert.ok(ResourceSpecPatchSchema.safeParse(patch).success);
  });

  test('re-announce every: seconds, empty for never; an edit that clears it sends null, one that keeps it sends nothing', () => {
    assert.equal('announceRefreshSec' in toSpecInput(form({})), false, 'empty: no refresh');
    assert.equal(toSpecInput(form({ announceRefreshSec: ' 60 ' })).announceRefreshSec, 60);
    for (const bad of ['0', '1.5', 'abc', '86401', '-5', '1m']) {
      assert.match(fieldsOf({ announceRefreshSec: bad }).announceRefreshSec ?? '', /^whole seconds 1\.\.86400, or empty for never$/, bad);
    }
    assert.equal(fieldsOf({ announceRefreshSec: '86400' }).announceRefreshSec, undefined);

    const refreshed = { ...resource('web', '10.213.0.50'), announceRefreshSec: 300 };
    const values = formFromResource(refreshed);
    assert.equal(values.announceRefreshSec, '300');
    assert.equal(formFromResource(resource('web', '10.213.0.50')).announceRefreshSec, '');
    assert.deepEqual(toPatch(values, refreshed), {}, 'kept: nothing sent');
    assert.deepEqual(toPatch({ ...values, announceRefreshSec: '' }, refreshed), { announceRefreshSec: null }, 'cleared: turned off');
    assert.deepEqual(toPatch({ ...values, announceRefreshSec: '60' }, refreshed), { announceRefreshSec: 60 });
    assert.ok(ResourceSpecPatchSchema.safeParse({ announceRefreshSec: null }).success);
  });

  test('on a failure: retries, ban and threshold; empty for the defaults; an edit that clears one sends null', () => {
    const sent = toSpecInput(form({ retries: '0', banForSec: ' 90 ', failoverThreshold: '5/1h' }));
    assert.deepEqual([sent.retries, sent.banForSec, sent.failoverThreshold], [0, 90, { count: 5, windowSec: 3600 }]);
    assert.ok(ResourceSpecInputSchema.safeParse(sent).success);
    const plain = toSpecInput(form({}));
    assert.equal('retries' in plain || 'banForSec' in plain || 'failoverThreshold' in plain, false, 'empty: the defaults');
    assert.deepEqual(fieldsOf({ retries: '11', banForSec: '0', failoverThreshold: '5' }), {
      retries: 'a whole number 0..10, or empty for 1',
      banForSec: 'whole seconds 1..604800, or empty for 600',
      failoverThreshold: 'expected COUNT/WINDOW, e.g. 5/1h (window in s, m, h or d)',
    });
    assert.equal(fieldsOf({ retries: 'one' }).retries, 'a whole number 0..10, or empty for 1');
    assert.equal(formFieldOf('patch.failoverThreshold.count'), 'failoverThreshold');

    const original = { ...resource('web', '10.213.0.50'), retries: 3, failoverThreshold: { count: 2, windowSec: 5400 } };
    const values = formFromResource(original);
    assert.deepEqual([values.retries, values.banForSec, values.failoverThreshold], ['3', '', '2/90m']);
    assert.deepEqual(toPatch(values, original), {}, 'kept: nothing sent');
    const cleared = toPatch({ ...values, retries: '', failoverThreshold: '', banForSec: '60' }, original);
    assert.deepEqual(cleared, { retries: null, banForSec: 60, failoverThreshold: null });
    assert.ok(ResourceSpecPatchSchema.safeParse(cleared).success);
  });

  test('a resource round-trips through the form', () => {
    const original = { ...resource('web', '10.213.0.50', { preferredOwners: ['n2'] }), failback: { mode: 'window' as const, startHour: 1, endHour: 5 }, interfaces: { n2: 'eth9' } };
    const spec = toSpecInput(formFromResource(original));
    assert.deepEqual(spec.failback, original.failback);
    assert.deepEqual(spec.interfaces, original.interfaces);
    assert.deepEqual(spec.preferredOwners, ['n2']);
  });
});

describe("the agent's issues on the form", () => {
  test('field paths map to form fields with and without the spec/patch prefix', () => {
    assert.equal(formFieldOf('spec.ip'), 'ip');
    assert.equal(formFieldOf('patch.failback.startHour'), 'failback.startHour');
    assert.equal(formFieldOf('spec.failback.mode'), 'failback');
    assert.equal(formFieldOf('spec.interfaces.n1'), 'interfaces');
    assert.equal(formFieldOf('name'), 'name');
    assert.equal(formFieldOf('spec'), null);
    assert.equal(formFieldOf(''), null);
    assert.equal(formFieldOf('spec.prefered'), null, 'an unknown field belongs to no input');
  });

  test("'invalid' issues land on their fields; the rest are general; repeated fields are joined", () => {
    const errors = issuesToFormErrors(
      [
        { field: 'spec.ip', message: '10.213.0.0 is the network address of 10.213.0.0/24; choose a host address' },
        { field: 'spec.possibleOwners', message: 'unknown node "x" (known nodes: n1)' },
        { field: 'spec.possibleOwners', message: 'node "n1" is listed twice' },
        { field: 'spec.interfaces.n9', message: 'interface given for unknown node "n9"' },
        { field: 'spec', message: 'a resource definition must be an object' },
        { field: 'spec.prefered', message: 'unknown field "prefered"' },
      ],
      { message: 'ignored when there are issues' },
    );
    assert.deepEqual(errors.fields, {
      ip: '10.213.0.0 is the network address of 10.213.0.0/24; choose a host address',
      possibleOwners: 'unknown node "x" (known nodes: n1); node "n1" is listed twice',
      interfaces: 'interface given for unknown node "n9"',
    });
    assert.deepEqual(errors.general, ['a resource definition must be an object', 'spec.prefered: unknown field "prefered"']);
  });

  test("'bad-request' messages lose the path they repeat; an error without issues uses its own field", () => {
    const badRequest = issuesToFormErrors([{ field: 'spec.prefix', message: 'spec.prefix: expected number, received null' }], { message: 'x' });
    assert.deepEqual(badRequest.fields, { prefix: 'expected number, received null' });
    assert.deepEqual(issuesToFormErrors([], { message: 'a resource cannot be renamed', field: 'patch.name' }).fields, { name: 'a resource cannot be renamed' });
    assert.deepEqual(issuesToFormErrors([], { message: 'the cluster store cannot be reached' }).general, ['the cluster store cannot be reached']);
  });
});
