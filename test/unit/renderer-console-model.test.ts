// The console's model off the page (renderer/src/model/console-model.ts) and the page's side of it
// (page-cluster.ts): every digest crosses a structured clone, as it does from the worker, and the
// page folds it. Whatever the stream, the window, the sort, the filter, the folded groups, the
// watched names and the mirror do, the page must hold exactly the model's rows in its window, the
// model's records of the watched names and, while asked, every resource; and a digest must carry
// only what changed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceView } from '../../preload/contract/domain';
import type { Push } from '../../preload/contract/protocol';
import { resourceRows, type ResourceSort } from '../../preload/contract/resource-order';
import { ConsoleModel, MAX_WINDOW, type ModelDigest, type ModelRequest } from '../../renderer/src/model/console-model';
import { EMPTY_PAGE_CLUSTER, foldDigest, type PageCluster } from '../../renderer/src/model/page-cluster';
import { internPush, Interner } from '../../renderer/src/model/intern';
import { groupedTableItems, tableItemKey, type TableItem } from '../../renderer/src/model/table-groups';
import { changePush, node, resource, snapshotPush, T0 } from './renderer-fixtures';
import { seededRandom as prng } from '../seeded-random';

const NAME_ASC: ResourceSort = { column: 'name', direction: 'asc' };

function name(i: number): string {
  return `r${String(i).padStart(5, '0')}`;
}

function resources(count: number, group?: (i: number) => string | undefined): ResourceView[] {
  return Array.from({ length: count }, (_, i) => resource(name(i), `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, { since: T0 + i, ...(group?.(i) === undefined ? {} : { group: group(i) }) }));
}

/** A model and a page joined as through a worker: each request's digest cloned and folded, in order. */
class Pair {
  readonly model = new ConsoleModel();
  page: PageCluster = EMPTY_PAGE_CLUSTER;
  wants = { mirror: false, loads: false };
  readonly digests: ModelDigest[] = [];

  send(request: ModelRequest): ModelDigest | null {
    // As useCluster does: the page drops its mirror itself when it no longer wants it.
    if (request.type === 'mirror' || request.type === 'loads') this.wants = { ...this.wants, [request.type]: request.on };
    if (request.type === 'mirror' && !request.on) this.page = { ...this.page, mirror: null };
    if (request.type === 'loads' && !request.on) this.page = { ...this.page, loads: null };
    const digest = this.model.handle(structuredClone(request));
    if (digest === null) return null;
    const crossed = structuredClone(digest);
    this.digests.push(crossed);
    this.page = foldDigest(this.page, crossed, this.wants);
    return crossed;
  }

  /** The model's items, computed here afresh from its resources (not from its caches). */
  expectedItems(filter: string, sort: ResourceSort, collapsed: ReadonlySet<string>): TableItem[] {
    const cluster = this.model.cluster;
    return [...groupedTableItems(resourceRows(cluster.resources.values(), filter, sort), collapsed)];
  }

  /** The page's window holds the model's items [start, end), by value. */
  assertWindow(expected: readonly TableItem[], start: number, end: number, context: string): void {
    const items = this.page.table.items;
    assert.equal(items.length, expected.length, `${context}: the table's length`);
    const last = Math.min(end, expected.length);
    for (let index = Math.min(start, Math.max(0, expected.length - 1)); index < last; index++) {
      assert.deepEqual(items.at(index), expected[index], `${context}: item ${index}`);
    }
  }
}

describe('the console model off the page', () => {
  test('the page holds its window only, and a digest brings only the records that changed in it', () => {
    const pair = new Pair();
    pair.send({ type: 'table', filter: '', sort: NAME_ASC, collapsed: [], selected: null });
    pair.send({ type: 'window', start: 0, end: 60 });
    const first = pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(10_000), nodes: [node('n1'), node('n2')] })] });
    assert.ok(first !== null);
    assert.equal(first.table.length, 10_000);
    assert.equal(first.table.keys?.length, 60);
    assert.equal(first.table.records.length, 60, 'the window, and nothing else of the 10,000');
    assert.equal(first.resourceCount, 10_000);
    assert.deepEqual(first.nodes?.map((n) => n.name), ['n1', 'n2']);
    pair.assertWindow(pair.expectedItems('', NAME_ASC, new Set()), 0, 60, 'after the snapshot');
    assert.equal(pair.page.table.items.at(60), undefined, 'beyond the window: not on the page');

    // The same window again: nothing to say.
    assert.equal(pair.send({ type: 'window', start: 0, end: 60 }), null);

    // A change inside the window: that record alone; the nodes, unchanged, are not sent again.
    const inside = changePush(2, { kind: 'resource', resource: resource(name(5), '10.0.0.5', { owner: 'n2', since: T0 + 5 }) });
    const second = pair.send({ type: 'pushes', pushes: [inside] });
    assert.deepEqual(second?.table.records.map((r) => r.name), [name(5)]);
    assert.equal(second?.table.keys, null);
    assert.equal(second?.nodes, undefined);
    assert.equal((pair.page.table.items.at(5) as ResourceView).status.owner, 'n2');

    // A change outside: no record at all, but the revision and the count of changes applied.
    const outside = changePush(3, { kind: 'resource', resource: resource(name(9_000), '10.0.35.40', { owner: 'n2', since: T0 + 9_000 }) });
    const third = pair.send({ type: 'pushes', pushes: [outside] });
    assert.deepEqual(third?.table.records, []);
    assert.equal(third?.revision, 3);
    assert.equal(third?.changesApplied, 2);

    // The window moves: the new rows come, and the page forgets the old ones.
    const moved = pair.send({ type: 'window', start: 8_990, end: 9_050 });
    assert.equal(moved?.table.records.length, 60);
    pair.assertWindow(pair.expectedItems('', NAME_ASC, new Set()), 8_990, 9_050, 'after the window moved');
    assert.equal(pair.page.table.items.at(5), undefined);
  });

  test('a window larger than MAX_WINDOW is cut to it', () => {
    const pair = new Pair();
    pair.send({ type: 'table', filter: '', sort: NAME_ASC, collapsed: [], selected: null });
    pair.send({ type: 'window', start: 0, end: 1_000_000 });
    const digest = pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(5_000) })] });
    assert.equal(digest?.table.keys?.length, MAX_WINDOW);
  });

  test('under a random stream, sorts, filters, folds and windows, the page always holds the model\'s rows', () => {
    const random = prng(13);
    const pair = new Pair();
    const group = (i: number): string | undefined => (i % 97 === 0 ? `g${i % 5}` : undefined);
    let count = 3_000;
    let revision = 1;
    pair.send({ type: 'window', start: 0, end: 80 });
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(count, group) })] });
    const sorts: ResourceSort[] = [NAME_ASC, { column: 'owner', direction: 'desc' }, { column: 'state', direction: 'asc' }, { column: 'since', direction: 'desc' }];
    const filters = ['', 'r01', 'owner:n2', 'state:failed'];
    let sort = NAME_ASC;
    let filter = '';
    let collapsed = new Set<string>();
    let start = 0;
    let end = 80;
    for (let step = 0; step < 300; step++) {
      const roll = random();
      if (roll < 0.6) {
        const pushes: Push[] = [];
        for (let k = 0; k < 20; k++) {
          const i = Math.floor(random() * (count + 5));
          revision++;
          if (random() < 0.05 && i < count) pushes.push(changePush(revision, { kind: 'resource-removed', name: name(i) }));
          else {
            const owner = random() < 0.5 ? 'n1' : 'n2';
            const state = random() < 0.1 ? 'failed' : 'online';
            pushes.push(changePush(revision, { kind: 'resource', resource: resource(name(i), `10.1.${i >> 8}.${i & 255}`, { owner, state, since: T0 + Math.floor(random() * 1e6), ...(group(i) === undefined ? {} : { group: group(i) }) }) }));
            if (i >= count) count = i + 1;
          }
        }
        pair.send({ type: 'pushes', pushes });
      } else if (roll < 0.7) {
        sort = sorts[Math.floor(random() * sorts.length)]!;
        pair.send({ type: 'table', filter, sort, collapsed: [...collapsed], selected: null });
      } else if (roll < 0.8) {
        filter = filters[Math.floor(random() * filters.length)]!;
        pair.send({ type: 'table', filter, sort, collapsed: [...collapsed], selected: null });
      } else if (roll < 0.85) {
        const g = `g${Math.floor(random() * 5)}`;
        collapsed = new Set(collapsed);
        if (!collapsed.delete(g)) collapsed.add(g);
        pair.send({ type: 'table', filter, sort, collapsed: [...collapsed], selected: null });
      } else {
        start = Math.floor(random() * count);
        end = start + 20 + Math.floor(random() * 150);
        pair.send({ type: 'window', start, end });
      }
      pair.assertWindow(pair.expectedItems(filter, sort, collapsed), start, end, `step ${step}`);
      assert.equal(pair.page.resourceCount, pair.model.cluster.resources.size, `step ${step}: the count`);
    }
  });

  test('the selected item\'s index follows the order, and says which selection it answers', () => {
    const pair = new Pair();
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(500) })] });
    pair.send({ type: 'table', filter: '', sort: NAME_ASC, collapsed: [], selected: name(10) });
    assert.deepEqual([pair.page.table.selected, pair.page.table.selectedIndex], [name(10), 10]);
    pair.send({ type: 'table', filter: '', sort: { column: 'name', direction: 'desc' }, collapsed: [], selected: name(10) });
    assert.equal(pair.page.table.selectedIndex, 489);
    pair.send({ type: 'pushes', pushes: [changePush(2, { kind: 'resource-removed', name: name(10) })] });
    assert.equal(pair.page.table.selectedIndex, -1, 'gone from the table');
  });

  test('watched names: their records whatever the window, resent when they change, null once removed', () => {
    const pair = new Pair();
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(2_000) })] });
    pair.send({ type: 'window', start: 0, end: 10 });
    const watched = pair.send({ type: 'watch', names: [name(1_500), 'nosuch'] });
    assert.deepEqual(watched?.watched?.map(([n, r]) => [n, r?.name ?? null]), [[name(1_500), name(1_500)], ['nosuch', null]]);
    assert.equal(pair.send({ type: 'watch', names: [name(1_500), 'nosuch'] }), null, 'nothing new');
    pair.send({ type: 'pushes', pushes: [changePush(2, { kind: 'resource', resource: resource(name(1_500), '10.0.5.220', { owner: 'n3' }) })] });
    assert.equal(pair.page.watched.get(name(1_500))?.status.owner, 'n3');
    const removed = pair.send({ type: 'pushes', pushes: [changePush(3, { kind: 'resource-removed', name: name(1_500) })] });
    assert.deepEqual(removed?.watched, [[name(1_500), null]]);
    assert.equal(pair.page.watched.get(name(1_500)), null);
  });

  test('the mirror: every resource while asked, kept up to date change by change, dropped when no longer asked', () => {
    const random = prng(7);
    const pair = new Pair();
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(3_000) })] });
    const mirrorOf = (): ReadonlyMap<string, ResourceView> | null => pair.page.mirror;
    assert.equal(mirrorOf(), null);
    const full = pair.send({ type: 'mirror', on: true });
    assert.equal(full?.mirror?.kind, 'full');
    let revision = 1;
    for (let batch = 0; batch < 40; batch++) {
      const pushes: Push[] = [];
      for (let k = 0; k < 25; k++) {
        const i = Math.floor(random() * 3_100);
        revision++;
        pushes.push(random() < 0.1 ? changePush(revision, { kind: 'resource-removed', name: name(i) }) : changePush(revision, { kind: 'resource', resource: resource(name(i), '10.9.9.9', { owner: random() < 0.5 ? 'n1' : null }) }));
      }
      const digest = pair.send({ type: 'pushes', pushes });
      assert.equal(digest?.mirror?.kind, 'changes', 'a batch sends its changes, not the whole map');
    }
    const mirror = mirrorOf();
    assert.ok(mirror !== null);
    assert.equal(mirror.size, pair.model.cluster.resources.size);
    for (const record of pair.model.cluster.resources.values()) assert.deepEqual(mirror.get(record.name), record);
    pair.send({ type: 'mirror', on: false });
    assert.equal(mirrorOf(), null);
    const quiet = pair.send({ type: 'pushes', pushes: [changePush(revision + 1, { kind: 'resource', resource: resource(name(1), '10.9.9.1') })] });
    assert.equal(quiet?.mirror, undefined, 'nothing of the mirror once it is off');
  });

  test('the loads: resources held per node while asked, sent again only when a count changed', () => {
    const pair = new Pair();
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(1_000).map((r, i) => resource(r.name, r.ip, { owner: i % 4 === 0 ? null : `n${i % 3}` })) })] });
    assert.equal(pair.page.loads, null);
    pair.send({ type: 'loads', on: true });
    const expected = new Map<string, number>();
    for (const r of pair.model.cluster.resources.values()) if (r.status.owner !== null) expected.set(r.status.owner, (expected.get(r.status.owner) ?? 0) + 1);
    assert.deepEqual(pair.page.loads, new Map([...expected].sort()));
    // A change that keeps every count (online on the node it was on): no loads in the digest.
    const same = pair.send({ type: 'pushes', pushes: [changePush(2, { kind: 'resource', resource: resource(name(1), '10.0.0.1', { owner: 'n1', since: T0 + 99 }) })] });
    assert.equal(same?.loads, undefined);
    const moved = pair.send({ type: 'pushes', pushes: [changePush(3, { kind: 'resource', resource: resource(name(1), '10.0.0.1', { owner: 'n2' }) })] });
    assert.equal(moved?.loads?.find(([node]) => node === 'n2')?.[1], (expected.get('n2') ?? 0) + 1);
    pair.send({ type: 'loads', on: false });
    assert.equal(pair.page.loads, null);
  });

  test('a reset: the model sends everything again, and the page, started over, holds its window', () => {
    const pair = new Pair();
    pair.send({ type: 'window', start: 0, end: 30 });
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(100), nodes: [node('n1')] })] });
    pair.page = EMPTY_PAGE_CLUSTER;
    const reset = pair.send({ type: 'reset' });
    assert.equal(reset?.revision, null);
    assert.equal(pair.page.table.items.length, 0);
    pair.send({ type: 'pushes', pushes: [snapshotPush(5, { resources: resources(100), nodes: [node('n1')] })] });
    assert.deepEqual([...pair.page.nodes.keys()], ['n1'], 'the nodes sent again, though they equal the ones before the reset');
    pair.assertWindow(pair.expectedItems('', NAME_ASC, new Set()), 0, 30, 'after the reset');
  });

  test('group rows in the window come with their members summed up, and again when a member changes', () => {
    const pair = new Pair();
    pair.send({ type: 'window', start: 0, end: 20 });
    pair.send({ type: 'pushes', pushes: [snapshotPush(1, { resources: resources(50, (i) => (i < 3 ? 'web' : undefined)) })] });
    const first = pair.page.table.items.at(0);
    assert.ok(first !== undefined && tableItemKey(first) !== name(0), 'the group row first');
    assert.equal(pair.page.table.hasGroups, true);
    const changed = pair.send({ type: 'pushes', pushes: [changePush(2, { kind: 'resource', resource: resource(name(1), '10.0.0.1', { owner: 'n2', group: 'web' }) })] });
    assert.equal(changed?.table.groups?.length, 1, "the group's row again: its location changed");
    pair.assertWindow(pair.expectedItems('', NAME_ASC, new Set()), 0, 20, 'after a member moved');
  });
});

describe("the model's records share their repeated leaves (intern.ts)", () => {
  test('equal values, shared small parts, records and their own parts kept apart', () => {
    const interner = new Interner();
    const a = structuredClone(resource('web', '10.0.0.1', { owner: 'n1', preferredOwners: ['n1', 'n2'] }));
    const b = structuredClone(resource('db', '10.0.0.2', { owner: 'n1', preferredOwners: ['n1', 'n2'] }));
    const [x, y] = [interner.value(structuredClone(a)) as ResourceView, interner.value(structuredClone(b)) as ResourceView];
    assert.deepEqual(x, a);
    assert.deepEqual(y, b);
    assert.equal(x.failback, y.failback, 'one failback object');
    assert.equal(x.interfaces, y.interfaces);
    assert.equal(x.preferredOwners, y.preferredOwners, 'one preferred-owners list');
    assert.notEqual(x.status, y.status, 'the status has numbers of its own (since): not shared');
    assert.notEqual(x, y);
  });

  test('a push keeps its meaning: the model fed interned pushes ends where plain pushes lead', () => {
    const interner = new Interner();
    const pushes: Push[] = [
      snapshotPush(1, { resources: resources(50) }),
      { type: 'changes', changes: [changePush(2, { kind: 'resource', resource: resource(name(3), '10.0.0.3', { owner: 'n2' }) }), changePush(3, { kind: 'resource-removed', name: name(4) })] },
    ];
    assert.deepEqual(structuredClone(pushes).map((push) => internPush(push, interner)), pushes);
  });

  test('bounded: past its capacity a new shape is handed back as it came, and not kept', () => {
    const interner = new Interner();
    for (let i = 0; i < 10_000; i++) interner.value({ mode: `m${i}` });
    const late = { mode: 'late' };
    assert.equal(interner.value(late) === interner.value({ mode: 'late' }), false, 'not kept once full');
    assert.deepEqual(interner.value(late), { mode: 'late' });
  });
});
