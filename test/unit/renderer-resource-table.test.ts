// The Resources table's sort and filter, and the Nodes board built from the same rows.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceView } from '../../preload/contract/domain';
import { filterResources, nextSort, resourceRows, sortResources, RESOURCE_COLUMNS, type ResourceSort } from '../../renderer/src/model/resource-table';
import { buildBoard } from '../../renderer/src/model/nodes-board';
import { compareIpv4, ipv4ToNumber, isIpv4 } from '../../preload/contract/ipv4';
import { node, resource, T0 } from './renderer-fixtures';

const ROWS: ResourceView[] = [
  resource('web', '10.213.0.50', { owner: 'n2', ownerMac: '02:00:00:00:00:02', since: T0 + 3, lastHandoffMs: 2.5 }),
  resource('db', '10.213.0.9', { owner: 'n1', since: T0 + 1, lastHandoffMs: 0.4 }),
  resource('mail', '10.213.0.100', { owner: null, state: 'failed', since: T0 + 2 }),
  resource('vpn', '9.1.1.1', { owner: null, state: 'offline', since: 0 }),
  resource('api', '10.213.0.50', { owner: 'n1', prefix: 16, state: 'online-pending', since: T0 + 5, lastHandoffMs: 1 }),
];

function names(rows: readonly ResourceView[]): string[] {
  return rows.map((row) => row.name);
}

describe('sort', () => {
  const cases: Array<[ResourceSort, string[]]> = [
    [{ column: 'name', direction: 'asc' }, ['api', 'db', 'mail', 'vpn', 'web']],
    [{ column: 'name', direction: 'desc' }, ['web', 'vpn', 'mail', 'db', 'api']],
    // Numeric, not text: 9.x before 10.x, .9 before .50 before .100; same address by prefix.
    [{ column: 'address', direction: 'asc' }, ['vpn', 'db', 'api', 'web', 'mail']],
    [{ column: 'address', direction: 'desc' }, ['mail', 'web', 'api', 'db', 'vpn']],
    // No owner sorts last both ways; ties by name.
    [{ column: 'owner', direction: 'asc' }, ['api', 'db', 'web', 'mail', 'vpn']],
    [{ column: 'owner', direction: 'desc' }, ['web', 'api', 'db', 'mail', 'vpn']],
    // Trouble first ascending: failed, coming online, ..., offline, online.
    [{ column: 'state', direction: 'asc' }, ['mail', 'api', 'vpn', 'db', 'web']],
    [{ column: 'ownerMac', direction: 'asc' }, ['api', 'db', 'web', 'mail', 'vpn']],
    // An unknown time (0) sorts last both ways.
    [{ column: 'since', direction: 'asc' }, ['db', 'mail', 'web', 'api', 'vpn']],
    [{ column: 'since', direction: 'desc' }, ['api', 'web', 'mail', 'db', 'vpn']],
    [{ column: 'lastHandoff', direction: 'asc' }, ['db', 'api', 'web', 'mail', 'vpn']],
    [{ column: 'lastHandoff', direction: 'desc' }, ['web', 'api', 'db', 'mail', 'vpn']],
  ];
  for (const [sort, expected] of cases) {
    test(`${sort.column} ${sort.direction}`, () => assert.deepEqual(names(sortResources(ROWS, sort)), expected));
  }

  test('every column has a case above, and sorting does not touch its input', () => {
    const covered = new Set(cases.map(([sort]) => sort.column));
    assert.deepEqual([...covered].sort(), [...RESOURCE_COLUMNS].sort());
    const copy = [...ROWS];
    sortResources(copy, { column: 'state', direction: 'desc' });
    assert.deepEqual(names(copy), names(ROWS));
  });

  test('a header click sorts a new column ascending and flips the current one', () => {
    assert.deepEqual(nextSort({ column: 'name', direction: 'asc' }, 'name'), { column: 'name', direction: 'desc' });
    assert.deepEqual(nextSort({ column: 'name', direction: 'desc' }, 'name'), { column: 'name', direction: 'asc' });
    assert.deepEqual(nextSort({ column: 'name', direction: 'desc' }, 'owner'), { column: 'owner', direction: 'asc' });
  });

  test('10,000 rows sort into a total order by address', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => resource(`r${(i * 7919) % 10_000}`, `10.${(i * 31) % 256}.${(i * 17) % 256}.${i % 256}`));
    const sorted = sortResources(many, { column: 'address', direction: 'asc' });
    assert.equal(sorted.length, 10_000);
    for (let i = 1; i < sorted.length; i++) {
      const a = sorted[i - 1] as ResourceView;
      const b = sorted[i] as ResourceView;
      assert.ok(compareIpv4(a.ip, b.ip) < 0 || (compareIpv4(a.ip, b.ip) === 0 && a.name < b.name), `${a.ip} ${a.name} before ${b.ip} ${b.name}`);
    }
  });
});

describe('filter', () => {
  test('a plain term matches name, address, owner, state or MAC, case-insensitively', () => {
    assert.deepEqual(names(filterResources(ROWS, 'WEB')), ['web']);
    assert.deepEqual(names(filterResources(ROWS, '10.213.0.5')), ['web', 'api']);
    assert.deepEqual(names(filterResources(ROWS, '/16')), ['api']);
    assert.deepEqual(names(filterResources(ROWS, 'failed')), ['mail']);
    assert.deepEqual(names(filterResources(ROWS, 'coming')), ['api'], 'the label as shown also matches');
    assert.deepEqual(names(filterResources(ROWS, '00:02')), ['web']);
  });

  test('every term must match; field:value restricts a term to its field', () => {
    assert.deepEqual(names(filterResources(ROWS, 'n1 10.213')), ['db', 'api']);
    assert.deepEqual(names(filterResources(ROWS, 'owner:n1')), ['db', 'api']);
    assert.deepEqual(names(filterResources(ROWS, 'owner:none')), ['mail', 'vpn']);
    assert.deepEqual(names(filterResources(ROWS, 'state:offline')), ['vpn']);
    assert.deepEqual(names(filterResources(ROWS, 'name:a')), ['mail', 'api']);
    assert.deepEqual(names(filterResources(ROWS, 'ip:9.1')), ['vpn']);
    assert.deepEqual(names(filterResources(ROWS, 'mac:00:02')), ['web']);
    assert.deepEqual(names(filterResources(ROWS, 'bogus:x')), [], 'an unknown field prefix is a plain term');
  });

  test('an empty filter keeps every row; resourceRows filters then sorts', () => {
    assert.equal(filterResources(ROWS, '   ').length, ROWS.length);
    assert.deepEqual(names(resourceRows(ROWS, 'owner:n1', { column: 'name', direction: 'desc' })), ['db', 'api']);
  });
});

describe('nodes board', () => {
  test('a column per node in name order, addresses in address order, the unowned apart', () => {
    const board = buildBoard([node('n2'), node('n1', 'down')], [...ROWS, resource('ghost', '10.213.1.1', { owner: 'gone' })]);
    assert.deepEqual(board.columns.map((c) => [c.node.name, names(c.resources)]), [
      ['n1', ['db', 'api']],
      ['n2', ['web']],
    ]);
    assert.deepEqual(names(board.unowned), ['vpn', 'mail', 'ghost'], 'an owner the cluster no longer lists counts as unowned');
  });

  test('the filter applies to the cards, not to the columns', () => {
    const board = buildBoard([node('n1'), node('n2')], ROWS, 'web');
    assert.deepEqual(board.columns.map((c) => names(c.resources)), [[], ['web']]);
  });
});

describe('ipv4', () => {
  test('strict dotted quads only', () => {
    assert.ok(isIpv4('10.213.0.1'));
    for (const bad of ['10.213.0', '10.213.0.256', '010.1.1.1', '1.1.1.1 ', 'a.b.c.d']) assert.equal(isIpv4(bad), false, bad);
    assert.equal(ipv4ToNumber('255.255.255.255'), 4294967295);
    assert.equal(ipv4ToNumber('nope'), -1);
  });
});
