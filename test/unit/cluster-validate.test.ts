import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceSpec } from '../../main/cluster/model';
import {
  NAME_MAX_LENGTH,
  validateNodeName,
  validateResourceName,
  validateResourceSpec,
  type FieldError,
  type SpecContext,
} from '../../main/cluster/validate';

const NODES = ['n1', 'n2', 'n3'];
const CONTEXT: SpecContext = { nodes: NODES, existing: [] };
const BASE = { name: 'web', ip: '10.213.0.50', prefix: 24 };

function existing(name: string, ip: string): ResourceSpec {
  return {
    name, ip, prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' }, interfaces: {},
    enabled: true, announceForm: 'request', defendPolicy: 'always',
  };
}

function accept(input: unknown, context: SpecContext = CONTEXT): ResourceSpec {
  const result = validateResourceSpec(input, context);
  assert.ok(result.ok, `expected valid, got ${JSON.stringify(result)}`);
  return result.spec;
}

/** Every error message is shown verbatim: one non-empty line. */
function reject(input: unknown, context: SpecContext = CONTEXT): FieldError[] {
  const result = validateResourceSpec(input, context);
  assert.ok(!result.ok, `expected errors for ${JSON.stringify(input)}`);
  assert.ok(result.errors.length > 0);
  for (const error of result.errors) {
    assert.ok(error.message.length > 0);
    assert.doesNotMatch(error.message, /[\n\r]/, error.message);
  }
  return result.errors;
}

/** Exactly one error, on `field`, whose message matches `pattern`. */
function rejectOne(input: unknown, field: string, pattern: RegExp, context: SpecContext = CONTEXT): void {
  const errors = reject(input, context);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]!.field, field);
  assert.match(errors[0]!.message, pattern);
}

describe('validateResourceSpec: defaults and accepted input', () => {
  test('fills every omitted optional field with its default', () => {
    assert.deepEqual(accept(BASE), {
      name: 'web', ip: '10.213.0.50', prefix: 24, possibleOwners: [], preferredOwners: [], failback: { mode: 'never' },
      interfaces: {}, enabled: true, announceForm: 'request', defendPolicy: 'always',
    });
  });

  test('null optional fields (an unset form input) also mean the default', () => {
    const spec = accept({ ...BASE, possibleOwners: null, preferredOwners: null, failback: null, interfaces: null, enabled: null, announceForm: null, defendPolicy: null });
    assert.deepEqual(spec, accept(BASE));
  });

  test('keeps every given field', () => {
    const input = {
      name: 'db.primary_1-A', ip: '192.168.7.9', prefix: 22, possibleOwners: ['n3', 'n1'], preferredOwners: ['n1'],
      failback: { mode: 'window', startHour: 22, endHour: 6 }, interfaces: { n1: 'eth1', n3: 'ens4.100' },
      enabled: false, announceForm: 'both', defendPolicy: 'once',
    };
    assert.deepEqual(accept(input), input);
  });

  test('the result does not share arrays or objects with the input', () => {
    const input = { ...BASE, possibleOwners: ['n1', 'n2'], interfaces: { n1: 'eth1' } };
    const spec = accept(input);
    input.possibleOwners.push('n3');
    input.interfaces.n1 = 'eth9';
    assert.deepEqual(spec.possibleOwners, ['n1', 'n2']);
    assert.deepEqual(spec.interfaces, { n1: 'eth1' });
  });

  test('the address may carry its prefix ("a.b.c.d/nn"), with prefix omitted or equal', () => {
    assert.equal(accept({ name: 'web', ip: '10.213.0.50/24' }).prefix, 24);
    assert.equal(accept({ name: 'web', ip: '10.213.0.50/24' }).ip, '10.213.0.50');
    assert.equal(accept({ name: 'web', ip: '10.213.0.50/24', prefix: 24 }).prefix, 24);
    rejectOne({ name: 'web', ip: '10.213.0.50/24', prefix: 16 }, 'prefix', /disagrees with the \/24/);
  });

  test('a node named like an Object.prototype member is plain data', () => {
    const spec = accept({ ...BASE, possibleOwners: ['constructor'], interfaces: { constructor: 'eth1' } }, { nodes: ['constructor'], existing: [] });
    assert.deepEqual(spec.interfaces, { constructor: 'eth1' });
    rejectOne({ ...BASE, interfaces: { toString: 'eth1' } }, 'interfaces.toString', /unknown node "toString"/);
  });
});

describe('validateResourceSpec: the input as a whole', () => {
  for (const input of [null, undefined, 'web', 42, ['web']]) {
    test(`rejects ${JSON.stringify(input) ?? 'undefined'} with field ""`, () => {
      rejectOne(input, '', /must be an object/);
    });
  }

  test('rejects an unknown field, named as the field', () => {
    rejectOne({ ...BASE, prefered: ['n1'] }, 'prefered', /unknown field "prefered"/);
  });

  test('reports every error at once, each on its field', () => {
    const errors = reject({
      name: '-bad', ip: '127.0.0.1', prefix: 40, possibleOwners: ['n9'], preferredOwners: 'n1',
      failback: { mode: 'window', startHour: 25, endHour: 3 }, interfaces: { n1: 'eth 0' }, enabled: 'yes',
      announceForm: 'loud', defendPolicy: 'sometimes', colour: 'red',
    });
    const fields = errors.map((error) => error.field).sort();
    assert.deepEqual(fields, [
      'announceForm', 'colour', 'defendPolicy', 'enabled', 'failback.startHour', 'interfaces.n1', 'ip', 'name',
      'possibleOwners', 'possibleOwners', 'preferredOwners', 'prefix',
    ]);
  });
});

describe('validateResourceSpec: name', () => {
  const good = ['a', '9', 'web', 'db.primary_1-A', 'x'.repeat(NAME_MAX_LENGTH)];
  for (const name of good) {
    test(`accepts ${JSON.stringify(name)}`, () => assert.equal(accept({ ...BASE, name }).name, name));
  }
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /^name is required$/],
    ['', /^name is required$/],
    [7, /name must be text \(got 7\)/],
    ['x'.repeat(NAME_MAX_LENGTH + 1), /at most 63 characters \(got 64\)/],
    ['-web', /must start with a letter or digit/],
    ['.web', /must start with a letter or digit/],
    ['_web', /must start with a letter or digit/],
    ['web 1', /may contain only letters, digits/],
    ['wéb', /may contain only letters, digits/],
    ['web/1', /may contain only letters, digits/],
    ['web\n1', /"web\\n1"/],
  ];
  for (const [name, pattern] of bad) {
    test(`rejects ${JSON.stringify(name) ?? 'a missing name'}`, () => rejectOne({ ...BASE, name }, 'name', pattern));
  }
});

describe('validateResourceSpec: address', () => {
  const good: Array<[string, number]> = [
    ['10.213.0.1', 24], ['10.213.0.254', 24], ['1.0.0.1', 8], ['126.255.255.254', 8], ['128.0.0.1', 16],
    ['223.255.255.254', 24], ['10.213.0.50', 1], ['10.213.0.0', 31], ['10.213.0.1', 31], ['10.213.0.0', 32],
    ['10.213.0.255', 32], ['10.213.0.255', 23], ['10.213.1.0', 23],
  ];
  for (const [ip, prefix] of good) {
    test(`accepts ${ip}/${prefix}`, () => assert.equal(accept({ ...BASE, ip, prefix }).ip, ip));
  }
  const bad: Array<[unknown, number, RegExp]> = [
    [undefined, 24, /^address is required$/],
    ['', 24, /^address is required$/],
    [168427570, 24, /must be text like/],
    ['10.213.0.256', 24, /invalid IPv4 address "10.213.0.256": part 4 is more than 255/],
    ['010.213.0.1', 24, /leading zero/],
    [' 10.213.0.1', 24, /only digits and dots/],
    ['10.213.0', 24, /four parts/],
    ['10.213.0.5/24/8', 24, /one "\/"/],
    ['0.0.0.0', 24, /"this network"/],
    ['0.1.2.3', 8, /in 0\.0\.0\.0\/8/],
    ['127.0.0.1', 8, /loopback/],
    ['127.255.255.254', 24, /loopback/],
    ['224.0.0.1', 24, /multicast/],
    ['239.255.255.254', 24, /multicast/],
    ['255.255.255.255', 32, /limited broadcast/],
    ['10.213.0.0', 24, /^10\.213\.0\.0 is the network address of 10\.213\.0\.0\/24/],
    ['10.213.0.255', 24, /^10\.213\.0\.255 is the broadcast address of 10\.213\.0\.0\/24/],
    ['10.213.0.3', 30, /broadcast address of 10\.213\.0\.0\/30/],
    ['10.213.0.4', 30, /network address of 10\.213\.0\.4\/30/],
    ['10.0.0.0', 8, /network address of 10\.0\.0\.0\/8/],
    ['127.255.255.255', 1, /loopback/],
    ['128.0.0.0', 1, /network address of 128\.0\.0\.0\/1/],
  ];
  for (const [ip, prefix, pattern] of bad) {
    test(`rejects ${JSON.stringify(ip) ?? 'a missing address'}/${prefix}`, () => rejectOne({ ...BASE, ip, prefix }, 'ip', pattern));
  }

  test('an invalid address in CIDR form does not also ask for the prefix', () => {
    rejectOne({ name: 'web', ip: '10.213.0.300/24' }, 'ip', /part 4 is more than 255/);
  });

  test('a missing address and prefix are both reported', () => {
    const errors = reject({ name: 'web' });
    assert.deepEqual(errors.map((e) => e.field), ['ip', 'prefix']);
  });
});

describe('validateResourceSpec: prefix', () => {
  const bad: unknown[] = [0, 33, -1, 24.5, '24', Number.NaN, true];
  for (const prefix of bad) {
    test(`rejects ${String(prefix)} (${typeof prefix})`, () => rejectOne({ ...BASE, prefix }, 'prefix', /prefix must be an integer 1\.\.32/));
  }
  test('rejects a missing prefix, suggesting the CIDR form', () => {
    rejectOne({ name: 'web', ip: '10.213.0.50' }, 'prefix', /prefix is required .*"10\.213\.0\.50\/24"/);
  });
  test('rejects /0 written in the address', () => {
    rejectOne({ name: 'web', ip: '10.213.0.50/0' }, 'prefix', /got 0/);
  });
});

describe('validateResourceSpec: owners', () => {
  test('an unknown possible owner is named, with the known nodes', () => {
    rejectOne({ ...BASE, possibleOwners: ['n1', 'n9'] }, 'possibleOwners', /^unknown node "n9" \(known nodes: n1, n2, n3\)$/);
  });

  test('a possible owner listed twice', () => {
    rejectOne({ ...BASE, possibleOwners: ['n1', 'n2', 'n1'] }, 'possibleOwners', /node "n1" is listed twice/);
  });

  test('possible owners that are not a list, or not names', () => {
    rejectOne({ ...BASE, possibleOwners: 'n1' }, 'possibleOwners', /must be a list of node names \(got "n1"\)/);
    rejectOne({ ...BASE, possibleOwners: ['n1', 3] }, 'possibleOwners', /must contain only node names \(got 3\)/);
  });

  test('possible owners that exclude every node: each unknown one, then the consequence', () => {
    const errors = reject({ ...BASE, possibleOwners: ['x1', 'x2'] });
    assert.deepEqual(errors.map((e) => e.field), ['possibleOwners', 'possibleOwners', 'possibleOwners']);
    assert.match(errors[2]!.message, /none of the possible owners is a node of this cluster/);
  });

  test('with no nodes yet, the message says so', () => {
    rejectOne({ ...BASE, preferredOwners: ['n1'] }, 'preferredOwners', /this cluster has no nodes yet/, { nodes: [], existing: [] });
  });

  test('a long node list is shortened in the message', () => {
    const nodes = Array.from({ length: 20 }, (_, i) => `node${i}`);
    const errors = reject({ ...BASE, possibleOwners: ['nodeX', 'node1'] }, { nodes, existing: [] });
    assert.match(errors[0]!.message, /node7, \.\.\.\)$/);
    assert.doesNotMatch(errors[0]!.message, /node8/);
  });

  test('preferred owners: known, not repeated, within the possible owners when those are given', () => {
    assert.deepEqual(accept({ ...BASE, preferredOwners: ['n3', 'n1'] }).preferredOwners, ['n3', 'n1']);
    assert.deepEqual(accept({ ...BASE, possibleOwners: ['n1', 'n3'], preferredOwners: ['n3'] }).preferredOwners, ['n3']);
    rejectOne({ ...BASE, preferredOwners: ['n4'] }, 'preferredOwners', /unknown node "n4"/);
    rejectOne({ ...BASE, preferredOwners: ['n2', 'n2'] }, 'preferredOwners', /listed twice/);
    rejectOne({ ...BASE, possibleOwners: ['n1', 'n3'], preferredOwners: ['n3', 'n2'] }, 'preferredOwners', /^preferred owner "n2" is not one of the possible owners$/);
  });
});

describe('validateResourceSpec: duplicates', () => {
  const others = [existing('db', '10.213.0.60'), existing('Web', '10.213.0.70')];

  test('a name already used, ignoring case', () => {
    rejectOne({ ...BASE, name: 'WEB', ip: '10.213.0.80' }, 'name', /^a resource named "Web" already exists$/, { nodes: NODES, existing: others });
  });

  test('an address already used by another resource', () => {
    rejectOne({ ...BASE, name: 'mail', ip: '10.213.0.60' }, 'ip', /^10\.213\.0\.60 is already the address of resource "db"$/, { nodes: NODES, existing: others });
  });

  test('a duplicate in name and address: both reported', () => {
    const errors = reject({ ...BASE, name: 'db', ip: '10.213.0.70' }, { nodes: NODES, existing: others });
    assert.deepEqual(errors.map((e) => e.field).sort(), ['ip', 'name']);
  });

  test('editing a resource keeps its own name and address', () => {
    accept({ ...BASE, name: 'db', ip: '10.213.0.60' }, { nodes: NODES, existing: others, editing: 'db' });
  });

  test('editing may rename, but not onto another resource, nor take its address', () => {
    accept({ ...BASE, name: 'db2', ip: '10.213.0.60' }, { nodes: NODES, existing: others, editing: 'db' });
    rejectOne({ ...BASE, name: 'web', ip: '10.213.0.60' }, 'name', /"Web" already exists/, { nodes: NODES, existing: others, editing: 'db' });
    rejectOne({ ...BASE, name: 'db', ip: '10.213.0.70' }, 'ip', /resource "Web"/, { nodes: NODES, existing: others, editing: 'db' });
  });
});

describe('validateResourceSpec: failback', () => {
  test('the three modes', () => {
    assert.deepEqual(accept({ ...BASE, failback: { mode: 'never' } }).failback, { mode: 'never' });
    assert.deepEqual(accept({ ...BASE, failback: { mode: 'immediate' } }).failback, { mode: 'immediate' });
    assert.deepEqual(accept({ ...BASE, failback: { mode: 'window', startHour: 0, endHour: 23 } }).failback, { mode: 'window', startHour: 0, endHour: 23 });
    assert.deepEqual(accept({ ...BASE, failback: { mode: 'window', startHour: 23, endHour: 0 } }).failback, { mode: 'window', startHour: 23, endHour: 0 });
  });

  test('hours left over from a window are dropped for the other modes', () => {
    assert.deepEqual(accept({ ...BASE, failback: { mode: 'immediate', startHour: 2, endHour: 4 } }).failback, { mode: 'immediate' });
  });

  const badHours: unknown[] = [24, -1, 1.5, '3', undefined];
  for (const hour of badHours) {
    test(`rejects window hour ${String(hour)}`, () => {
      rejectOne({ ...BASE, failback: { mode: 'window', startHour: hour, endHour: 5 } }, 'failback.startHour', /start hour must be an integer 0\.\.23/);
      rejectOne({ ...BASE, failback: { mode: 'window', startHour: 5, endHour: hour } }, 'failback.endHour', /end hour must be an integer 0\.\.23/);
    });
  }

  test('rejects a window whose start and end are the same hour', () => {
    rejectOne({ ...BASE, failback: { mode: 'window', startHour: 4, endHour: 4 } }, 'failback.endHour', /must differ .*'immediate'/);
  });

  test('rejects an unknown mode, an unknown setting, and a non-object', () => {
    rejectOne({ ...BASE, failback: { mode: 'sometimes' } }, 'failback', /mode must be one of 'never', 'immediate', 'window' \(got "sometimes"\)/);
    rejectOne({ ...BASE, failback: {} }, 'failback', /got undefined/);
    rejectOne({ ...BASE, failback: { mode: 'never', delay: 5 } }, 'failback', /unknown setting "delay"/);
    rejectOne({ ...BASE, failback: 'never' }, 'failback', /must be an object/);
  });
});

describe('validateResourceSpec: interfaces', () => {
  test('accepts an interface per known node', () => {
    assert.deepEqual(accept({ ...BASE, interfaces: { n1: 'eth1', n2: 'a'.repeat(15) } }).interfaces, { n1: 'eth1', n2: 'a'.repeat(15) });
  });

  const bad: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ n9: 'eth1' }, 'interfaces.n9', /interface given for unknown node "n9"/],
    [{ n1: 'eth 0' }, 'interfaces.n1', /invalid interface name "eth 0"/],
    [{ n1: 'a'.repeat(16) }, 'interfaces.n1', /must be 1 to 15 bytes/],
    [{ n1: '' }, 'interfaces.n1', /must be 1 to 15 bytes/],
    [{ n1: 'eth0:1' }, 'interfaces.n1', /':'/],
    [{ n1: 7 }, 'interfaces.n1', /must be text like "eth1" \(got 7\)/],
  ];
  for (const [interfaces, field, pattern] of bad) {
    test(`rejects ${JSON.stringify(interfaces)}`, () => rejectOne({ ...BASE, interfaces }, field, pattern));
  }

  test('rejects a list instead of a map', () => {
    rejectOne({ ...BASE, interfaces: ['eth1'] }, 'interfaces', /must map node names to interface names \(got a list\)/);
  });
});

describe('validateResourceSpec: enabled and the ARP enums', () => {
  test('accepts each value', () => {
    assert.equal(accept({ ...BASE, enabled: false }).enabled, false);
    for (const announceForm of ['request', 'reply', 'both']) assert.equal(accept({ ...BASE, announceForm }).announceForm, announceForm);
    for (const defendPolicy of ['never', 'once', 'always']) assert.equal(accept({ ...BASE, defendPolicy }).defendPolicy, defendPolicy);
  });

  test('rejects anything else', () => {
    rejectOne({ ...BASE, enabled: 'yes' }, 'enabled', /enabled must be true or false \(got "yes"\)/);
    rejectOne({ ...BASE, enabled: 1 }, 'enabled', /got 1/);
    rejectOne({ ...BASE, announceForm: 'Request' }, 'announceForm', /must be one of 'request', 'reply', 'both' \(got "Request"\)/);
    rejectOne({ ...BASE, defendPolicy: 2 }, 'defendPolicy', /must be one of 'never', 'once', 'always' \(got 2\)/);
  });
});

describe('validateNodeName and validateResourceName', () => {
  test('accept the same names as a resource name', () => {
    for (const name of ['n1', 'node-1.example', 'A_b', 'x'.repeat(NAME_MAX_LENGTH)]) {
      assert.deepEqual(validateNodeName(name), { ok: true, name });
      assert.deepEqual(validateResourceName(name), { ok: true, name });
    }
  });

  const bad: Array<[unknown, RegExp]> = [
    [undefined, /^node name is required$/],
    ['', /^node name is required$/],
    [null, /^node name is required$/],
    [{}, /must be text \(got an object\)/],
    ['x'.repeat(NAME_MAX_LENGTH + 1), /at most 63 characters/],
    ['-n1', /must start with a letter or digit/],
    ['n 1', /may contain only/],
    ['n1;reboot', /may contain only/],
  ];
  for (const [name, pattern] of bad) {
    test(`reject ${JSON.stringify(name) ?? 'undefined'}`, () => {
      const result = validateNodeName(name);
      assert.ok(!result.ok);
      assert.match(result.message, pattern);
      const resource = validateResourceName(name);
      assert.ok(!resource.ok);
      assert.match(resource.message, /^resource name /);
    });
  }

  test('a very long bad name is cut short in the message', () => {
    const result = validateNodeName(`-${'x'.repeat(500)}`);
    assert.ok(!result.ok);
    assert.ok(result.message.length < 250, result.message);
  });
});

test('the node name "best" is reserved for moves to the best node', () => {
  const result = validateNodeName('best');
  assert.equal(result.ok, false);
  assert.match(result.ok ? '' : result.message, /reserved/);
});

describe('validateResourceSpec: periodic re-announcement', () => {
  test('announceRefreshSec: whole seconds from 1 to 86400; null or absent is none', () => {
    assert.equal(accept({ ...BASE, announceRefreshSec: 1 }).announceRefreshSec, 1);
    assert.equal(accept({ ...BASE, announceRefreshSec: 86_400 }).announceRefreshSec, 86_400);
    assert.equal('announceRefreshSec' in accept({ ...BASE, announceRefreshSec: null }), false);
    assert.equal('announceRefreshSec' in accept(BASE), false);
  });

  for (const bad of [0, -5, 1.5, 86_401, '60', Number.NaN, true]) {
    test(`announceRefreshSec ${JSON.stringify(bad) ?? String(bad)} is refused on its field`, () => {
      const errors = reject({ ...BASE, announceRefreshSec: bad });
      assert.deepEqual(errors.map((e) => e.field), ['announceRefreshSec']);
      assert.match(errors[0]!.message, /^announceRefreshSec must be a whole number from 1 to 86400 s/);
    });
  }
});
