// Groups in the console: the Resources table's group rows, the Nodes board's group cards, and where
// a group may be dropped (the contract's eligibleForAll through groupMoveBlocker).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ResourceView } from '../../preload/contract/domain';
import { resourceRows } from '../../renderer/src/model/resource-table';
import { groupedTableItems, groupKey, groupLocation, groupState, isGroupRow, tableItemKey, toggleGroup, type TableItem } from '../../renderer/src/model/table-groups';
import { boardCards, buildBoard, limitCards } from '../../renderer/src/model/nodes-board';
import { groupMoveBlocker } from '../../renderer/src/model/placement-hint';
import { groupActionsFor } from '../../renderer/src/components/actions';
import { node, resource } from './renderer-fixtures';

const NONE: ReadonlySet<string> = new Set();

function keys(items: Iterable<TableItem>): string[] {
  return [...items].map(tableItemKey);
}

const ROWS: ResourceView[] = [
  resource('web', '10.0.0.5', { owner: 'n2' }),
  resource('outside', '10.0.0.2', { owner: 'n1', group: 'gw' }),
  resource('api', '10.0.0.9', { owner: 'n1' }),
  resource('inside', '10.0.0.1', { owner: 'n1', group: 'gw' }),
  resource('replica', '10.0.0.7', { owner: 'n3', state: 'failed', group: 'db' }),
  resource('primary', '10.0.0.8', { owner: 'n2', group: 'db' }),
];

describe('table group rows', () => {
  test('a table without groups is handed back as it is (no copy for 100,000 rows)', () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => resource(`r${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));
    assert.equal(groupedTableItems(rows, NONE), rows);
  });

  test("a group's row takes its first member's place and its members follow it, in the table's order", () => {
    const byName = resourceRows(ROWS, '', { column: 'name', direction: 'asc' });
    assert.deepEqual(keys(groupedTableItems(byName, NONE)), ['api', 'group:gw', 'inside', 'outside', 'group:db', 'primary', 'replica', 'web']);
    const byAddressDown = resourceRows(ROWS, '', { column: 'address', direction: 'desc' });
    assert.deepEqual(keys(groupedTableItems(byAddressDown, NONE)), ['api', 'group:db', 'primary', 'replica', 'web', 'group:gw', 'outside', 'inside']);
  });

  test('a collapsed group shows its row only; toggling brings the members back', () => {
    const byName = resourceRows(ROWS, '', { column: 'name', direction: 'asc' });
    const collapsed = toggleGroup(NONE, 'gw');
    const items = groupedTableItems(byName, collapsed);
    assert.deepEqual(keys(items), ['api', 'group:gw', 'group:db', 'primary', 'replica', 'web']);
    const gw = [...items].find(isGroupRow);
    assert.equal(gw?.expanded, false);
    assert.deepEqual(gw?.members.map((m) => m.name), ['inside', 'outside'], 'a collapsed row still counts its members');
    assert.deepEqual(keys(groupedTableItems(byName, toggleGroup(collapsed, 'gw'))), keys(groupedTableItems(byName, NONE)));
  });

  test('a filter keeps the group row of the members that match, with only those', () => {
    const items = groupedTableItems(resourceRows(ROWS, 'inside', { column: 'name', direction: 'asc' }), NONE);
    assert.deepEqual(keys(items), ['group:gw', 'inside']);
  });

  test('where a group is: one node, split, or not held', () => {
    assert.deepEqual(groupLocation([ROWS[1]!, ROWS[3]!]), { nodes: ['n1'], location: 'n1' });
    assert.deepEqual(groupLocation([ROWS[4]!, ROWS[5]!]), { nodes: ['n2', 'n3'], location: 'split: n2, n3' });
    assert.deepEqual(groupLocation([resource('a', '10.0.0.1', { owner: 'n1' }), resource('b', '10.0.0.2', { owner: null })]), { nodes: ['n1'], location: 'split: n1, not held' });
    assert.deepEqual(groupLocation([resource('a', '10.0.0.1', { owner: null })]), { nodes: [], location: 'not held' });
  });

  test('the summary state: the common state, or what needs attention first and the counts', () => {
    assert.deepEqual(groupState([ROWS[1]!, ROWS[3]!]), { state: 'online', uniform: true, label: 'Online' });
    assert.deepEqual(groupState([ROWS[4]!, ROWS[5]!]), { state: 'failed', uniform: false, label: 'Mixed: 1 Failed, 1 Online' });
  });

  test('group keys never meet resource names (a colon is in no resource name)', () => {
    assert.equal(groupKey('gw'), 'group:gw');
    assert.notEqual(tableItemKey(ROWS[0]!), groupKey(ROWS[0]!.name));
  });
});

describe('board group cards', () => {
  test("a column's members of one group are one card at the first member's place; a split group has a card per column", () => {
    const board = buildBoard([node('n1'), node('n2'), node('n3')], ROWS);
    const summary = (cards: ReturnType<typeof boardCards>) => cards.map((card) => (card.kind === 'group' ? `${card.name}[${card.members.map((m) => m.name).join(',')}]` : card.resource.name));
    assert.deepEqual(summary(boardCards(board.columns[0]!.resources)), ['gw[inside,outside]', 'api']);
    assert.deepEqual(summary(boardCards(board.columns[1]!.resources)), ['web', 'db[primary]']);
    assert.deepEqual(summary(boardCards(board.columns[2]!.resources)), ['db[replica]']);
  });

  test("a busy column's limit counts cards, so a group's card is never cut; the rest are counted in addresses", () => {
    const cards = boardCards(buildBoard([node('n1'), node('n2'), node('n3')], ROWS).columns[0]!.resources);
    const one = limitCards(cards, 1);
    assert.equal(one.shown.length, 1);
    assert.equal(one.shown[0]!.kind === 'group' ? one.shown[0]!.members.length : 0, 2, 'the group card keeps both members');
    assert.equal(one.hiddenAddresses, 1, 'api is left out and counted');
    assert.deepEqual(limitCards(cards, 0).hiddenAddresses, 3);
    assert.deepEqual(limitCards(cards, 5), { shown: cards, hiddenAddresses: 0 });
  });
});

describe('where a group may be dropped', () => {
  const gw = [resource('inside', '10.0.0.1', { owner: 'n1', group: 'gw', possibleOwners: ['n1', 'n2'] }), resource('outside', '10.0.0.2', { owner: 'n1', group: 'gw' })];

  test('a node that may hold every member takes it; the holder of all is the current owner', () => {
    assert.equal(groupMoveBlocker(gw, node('n2')), null);
    assert.equal(groupMoveBlocker(gw, node('n1')), 'current owner');
  });

  test('a node one member may not have refuses the whole group, and says which member', () => {
    assert.equal(groupMoveBlocker(gw, node('n3')), 'inside: not a possible owner');
    assert.equal(groupMoveBlocker(gw, node('n2', 'down')), 'inside: down');
  });

  test("a split group may go to a node holding some of it; a disabled member constrains nothing", () => {
    const split = [gw[0]!, { ...gw[1]!, status: { ...gw[1]!.status, owner: 'n2' } }];
    assert.equal(groupMoveBlocker(split, node('n2')), null);
    const withDisabled = [...gw, resource('spare', '10.0.0.3', { owner: null, group: 'gw', enabled: false, possibleOwners: ['n9'] })];
    assert.equal(groupMoveBlocker(withDisabled, node('n2')), null);
  });
});

describe('who may move a group', () => {
  test('operators and admins get the group move; a viewer and a session before the login do not', () => {
    const moves: string[] = [];
    const fns = { openGroupMove: (name: string, target?: string) => void moves.push(`${name}->${target ?? 'best'}`) };
    assert.equal(groupActionsFor('viewer', fns).openGroupMove, null);
    assert.equal(groupActionsFor(null, fns).openGroupMove, null);
    groupActionsFor('operator', fns).openGroupMove?.('gw', 'n2');
    groupActionsFor('admin', fns).openGroupMove?.('gw');
    assert.deepEqual(moves, ['gw->n2', 'gw->best']);
  });
});
