// The paged stream (protocol.ts, issue 13 §4) end to end without a browser: the agent's session
// (main/api/stream.ts) feeding the console's model (renderer/src/model/cluster-state.ts) through the
// wire (JSON, the contract's parser), with changes racing the rows; the compact encoding
// (compact-rows.ts); the first page (resource-order.ts); and what the table shows before the rest has
// arrived (resource-table.ts loadingRows), checked against the whole view computed afresh.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeRows, encodeRows, ROW_STRIDE } from '../../preload/contract/compact-rows';
import { ResourceViewSchema, type ResourceView } from '../../preload/contract/domain';
import { fastPush } from '../../preload/contract/fast-push';
import { parseServerMessage } from '../../preload/contract/parse';
import type { Push, WirePush } from '../../preload/contract/protocol';
import { DEFAULT_TABLE_VIEW, firstPage, resourceRows, RESOURCE_COLUMNS, type ResourceTableView } from '../../preload/contract/resource-order';
import { CHANGE_BATCH_MS, StreamSession } from '../../main/api/stream';
import { applyPushes, EMPTY_CLUSTER, type ClusterState } from '../../renderer/src/model/cluster-state';
import { loadingRows } from '../../renderer/src/model/resource-table';
import { FakeApiHandler } from './api-fixtures';
import { node, resource, T0 } from './renderer-fixtures';
import { seededRandom as prng } from '../seeded-random';
import { fastCheckAgrees } from './fast-check-agreement';

const isRow = (row: unknown): boolean => ResourceViewSchema.safeParse(row).success;
const STATES = ['online', 'offline', 'failed', 'online-pending', 'offline-pending'] as const;

function cluster(count: number, random: () => number): ResourceView[] {
  return Array.from({ length: count }, (_, i) => {
    const state = STATES[Math.floor(random() * STATES.length)] ?? 'online';
    const held = state === 'online' || state === 'offline-pending';
    const owner = held ? `n${1 + Math.floor(random() * 3)}` : null;
    const row = resource(`r${String(Math.floor(random() * 1e6)).padStart(6, '0')}-${i}`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, {
      owner,
      state,
      ownerMac: owner === null ? null : `02:00:00:00:00:0${owner.slice(1)}`,
      since: T0 + Math.floor(random() * 1e6),
      lastHandoffMs: random() < 0.5 ? null : Math.round(random() * 4000) / 1000,
      preferredOwners: random() < 0.3 ? ['n2'] : [],
    });
    if (state === 'failed') return { ...row, status: { ...row.status, failure: random() < 0.5 ? { kind: 'no-eligible-node' as const } : { kind: 'conflict' as const, mac: '02:00:00:00:09:99' } } };
    return random() < 0.05 ? { ...row, announceCount: 3, failback: { mode: 'window' as const, startHour: 1, endHour: 5 } } : row;
  });
}

/** What the wire does to a push: JSON both ways, then the console's fast check (the contract's parser when it declines). */
function overTheWire(push: WirePush): Push {
  const text = JSON.stringify(push);
  const fast = fastPush(JSON.parse(text));
  if (fast !== null) return fast;
  const parsed = parseServerMessage(text);
  assert.equal(parsed.kind, 'push', `the contract refused a push the agent sent: ${text.slice(0, 200)}`);
  return (parsed as { push: Push }).push;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('compact rows', () => {
  test('decode(encode(rows)) gives the rows back, in order, a fraction of the JSON size', () => {
    const rows = cluster(500, prng(3));
    const odd = { ...resource('odd', '10.9.9.9'), status: { ...resource('other-name', '10.9.9.9').status } };
    const encoded = encodeRows([...rows, odd]);
    assert.equal(encoded.raw.length, 1, 'a status named otherwise travels as is');
    assert.deepEqual(decodeRows(JSON.parse(JSON.stringify(encoded)) as typeof encoded, isRow, 5_000), [...rows, odd]);
    assert.ok(JSON.stringify(encoded).length < JSON.stringify(rows).length / 3);
  });

  test('anything off decodes to null: bad index, unused part, a spec remainder naming the row, too many rows', () => {
    const encoded = encodeRows(cluster(20, prng(4)));
    const mutate = (change: (copy: typeof encoded) => void): null | ResourceView[] => {
      const copy = structuredClone(encoded);
      change(copy);
      return decodeRows(copy, isRow, 5_000);
    };
    assert.notEqual(mutate(() => undefined), null);
    assert.equal(mutate((c) => (c.cells[3] = c.specs.length)), null);
    assert.equal(mutate((c) => (c.cells[3] = 0.5)), null);
    assert.equal(mutate((c) => (c.cells[4] = 9)), null);
    assert.equal(mutate((c) => (c.cells[5] = c.strings.length)), null);
    assert.equal(mutate((c) => c.strings.push('unused')), null);
    assert.equal(mutate((c) => c.specs.push({ ...(c.specs[0] as object) } as never)), null);
    assert.equal(mutate((c) => Object.assign(c.specs[0] as object, { name: 'x' })), null);
    assert.equal(mutate((c) => c.cells.pop()), null);
    assert.equal(mutate((c) => (c.cells[0] = 'x'.repeat(200))), null);
    assert.equal(decodeRows(encoded, isRow, encoded.cells.length / ROW_STRIDE - 1), null);
  });
});

describe('first page', () => {
  test('is the first rows of the whole view, for every column, direction and a filter', () => {
    const rows = cluster(800, prng(5));
    for (const column of RESOURCE_COLUMNS) {
      for (const direction of ['asc', 'desc'] as const) {
        for (const filter of ['', 'state:failed', 'n2', 'zzz']) {
          const view: ResourceTableView = { sort: { column, direction }, filter, pageSize: 37 };
          const whole = resourceRows(rows, filter, view.sort);
          const { page, matching } = firstPage(rows, view);
          assert.deepEqual(page.map((row) => row.name), whole.slice(0, 37).map((row) => row.name), `${column} ${direction} "${filter}"`);
          assert.equal(matching, whole.length);
        }
      }
    }
  });
});

describe('the paged stream, agent to console', () => {
  for (const seed of [1, 2, 3, 4]) {
    test(`changes racing the rows are neither lost nor overwritten (seed ${seed})`, async () => {
      const random = prng(seed);
      const handler = new FakeApiHandler();
      const initial = cluster(1_000, random);
      handler.state = { ...handler.state, nodes: [node('n1'), node('n2'), node('n3')], resources: initial };
      const truth = new Map(initial.map((row) => [row.name, row]));
      // What the cluster was at each revision: the console sees changes a batch window late (stream.ts).
      const history: Array<{ revision: number; name: string; value: ResourceView | undefined }> = [];
      const truthAt = (revision: number | null): Map<string, ResourceView> => {
        const then = new Map(initial.map((row) => [row.name, row]));
        for (const entry of history) {
          if (revision === null || entry.revision > revision) break;
          if (entry.value === undefined) then.delete(entry.name);
          else then.set(entry.name, entry.value);
        }
        return then;
      };
      const pushes: Push[] = [];
      const view: ResourceTableView = seed % 2 === 0 ? DEFAULT_TABLE_VIEW : { sort: { column: 'state', direction: 'desc' }, filter: 'n', pageSize: 25 };
      const session = new StreamSession(handler, { push: (message) => pushes.push(overTheWire(message)), fail: assert.fail }, undefined, view, 90);
      await session.start(() => undefined);
      let state: ClusterState = EMPTY_CLUSTER;
      let consumed = 0;
      let loadingTurns = 0;
      const sortLike = view.sort;
      // Changes between the chunks: moves, removals of rows not yet sent, new resources.
      for (let turn = 0; turn < 40; turn++) {
        for (let i = 0; i < 5; i++) {
          const names = [...truth.keys()];
          const name = names[Math.floor(random() * names.length)] as string;
          const roll = random();
          if (roll < 0.15) {
            truth.delete(name);
            history.push({ revision: handler.emit({ kind: 'resource-removed', name }), name, value: undefined });
          } else if (roll < 0.25) {
            const fresh = resource(`new-${turn}-${i}`, `10.200.${turn}.${i}`, { owner: 'n3' });
            truth.set(fresh.name, fresh);
            history.push({ revision: handler.emit({ kind: 'resource', resource: fresh }), name: fresh.name, value: fresh });
          } else {
            const before = truth.get(name) as ResourceView;
            const state2 = STATES[Math.floor(random() * STATES.length)] ?? 'online';
            const next: ResourceView = { ...before, status: { ...before.status, state: state2, failure: state2 === 'failed' ? { kind: 'no-eligible-node' } : null, since: T0 + 10_000_000 + turn } };
            truth.set(name, next);
            history.push({ revision: handler.emit({ kind: 'resource', resource: next }), name, value: next });
          }
        }
        // The console applies what arrived so far, in batches of random size.
        const batch = pushes.slice(consumed);
        consumed = pushes.length;
        state = applyPushes(state, batch);
        if (state.loading !== null) {
          loadingTurns++;
          // What the table shows meanwhile is exactly the start of the real view.
          const known = loadingRows(state.loading, state.resources, view.filter, sortLike);
          assert.ok(known !== null);
          const whole = resourceRows(truthAt(state.revision).values(), view.filter, sortLike);
          assert.deepEqual(known.map((row) => row.name), whole.slice(0, known.length).map((row) => row.name));
          assert.ok(known.length >= Math.min(view.pageSize, whole.length) - 40, 'the first page stays on screen');
          assert.equal(loadingRows(state.loading, state.resources, 'other', sortLike), null, 'another view waits for the rest');
        }
        await tick();
      }
      for (let i = 0; i < 30; i++) await tick();
      // The last changes wait for their batch window (stream.ts CHANGE_BATCH_MS).
      await new Promise((resolve) => setTimeout(resolve, CHANGE_BATCH_MS + 10));
      state = applyPushes(state, pushes.slice(consumed));
      session.close();
      assert.ok(loadingTurns >= 5, `changes raced the rows (${loadingTurns} turns)`);
      assert.equal(state.loading, null, 'every row arrived');
      assert.equal(state.outOfSync, false);
      assert.equal(pushes.filter((push) => push.type === 'snapshot-rows').length, Math.ceil(1_000 / 90));
      assert.deepEqual(new Map([...state.resources].sort()), new Map([...truth].sort()));
      assert.equal(state.revision, handler.revision);
      assert.equal(state.changesApplied, 200);
    });
  }

  test('a reset while rows are under way starts over; rows of the old snapshot are ignored', async () => {
    const handler = new FakeApiHandler();
    handler.state = { ...handler.state, resources: cluster(300, prng(9)) };
    const pushes: Push[] = [];
    const session = new StreamSession(handler, { push: (message) => pushes.push(overTheWire(message)), fail: assert.fail }, undefined, DEFAULT_TABLE_VIEW, 50);
    await session.start(() => undefined);
    await tick();
    handler.state = { ...handler.state, resources: handler.state.resources.slice(0, 120) };
    handler.reset();
    for (let i = 0; i < 20; i++) await tick();
    session.close();
    const heads = pushes.filter((push) => push.type === 'snapshot-head');
    assert.equal(heads.length, 2);
    const state = applyPushes(EMPTY_CLUSTER, pushes);
    assert.equal(state.loading, null);
    assert.equal(state.resources.size, 120);
    // Rows of the first snapshot after the second head change nothing.
    const stale = pushes.find((push) => push.type === 'snapshot-rows' && push.revision === heads[0]?.revision);
    assert.ok(stale !== undefined);
    assert.equal(applyPushes(state, [stale]), state);
  });

  test('rows that do not add up to the head\'s count mark the copy out of sync', () => {
    const rows = cluster(10, prng(2));
    const head: Push = { type: 'snapshot-head', revision: 5, view: DEFAULT_TABLE_VIEW, resourceCount: 10, matching: 10, states: { online: 10, offline: 0, failed: 0, 'online-pending': 0, 'offline-pending': 0 }, page: rows.slice(0, 3), nodes: [], conflicts: [], events: [], rejected: [] };
    const state = applyPushes(EMPTY_CLUSTER, [head, { type: 'snapshot-rows', revision: 5, resources: rows.slice(0, 9), done: true }]);
    assert.equal(state.outOfSync, true);
    const good = applyPushes(EMPTY_CLUSTER, [head, { type: 'snapshot-rows', revision: 5, resources: rows.slice(0, 4), done: false }, { type: 'snapshot-rows', revision: 5, resources: rows.slice(4), done: true }]);
    assert.equal(good.outOfSync, false);
    assert.equal(good.resources.size, 10);
  });
});

describe('batched changes ("changes" pushes): the fast check against the contract', () => {
  const ITEM_WEIRD: unknown[] = [null, [], {}, 'x', { revision: 1 }, { change: {} }, { revision: 1, change: { kind: 'resource-removed', name: 'web' } }, { revision: 2, change: { kind: 'resource', resource: {} } }];

  test('never accepts what the contract refuses, and gives the contract\'s value (change pushes, in order)', () => {
    const random = prng(4);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const bases = cluster(8, prng(5));
    let accepted = 0;
    for (let i = 0; i < 4_000; i++) {
      const count = 1 + Math.floor(random() * 6);
      const changes: unknown[] = Array.from({ length: count }, (_, k) => ({ revision: 10 + k, change: { kind: 'resource', resource: structuredClone(pick(bases)) } }));
      const message: Record<string, unknown> = { type: 'changes', changes };
      if (i % 2 === 1) {
        const roll = random();
        const at = Math.floor(random() * count);
        if (roll < 0.3) changes[at] = structuredClone(pick(ITEM_WEIRD));
        else if (roll < 0.5) (changes[at] as Record<string, unknown>).revision = pick([-1, 1.5, 'x', null]);
        else if (roll < 0.6) (changes[at] as Record<string, unknown>).extra = 1;
        else if (roll < 0.7) ((changes[at] as { change: { resource: Record<string, unknown> } }).change.resource).prefix = pick([null, -1, 33, 'x', 1.5, 16]);
        else if (roll < 0.8) message.changes = pick([[], null, {}, 'x', Array(1_001).fill(changes[0])]);
        else if (roll < 0.9) message.extra = true;
        else delete message.changes;
      }
      const fast = fastCheckAgrees(message, 'changes');
      if (fast === null) continue;
      accepted++;
      assert.equal(fast.type, 'changes');
      if (fast.type === 'changes') assert.deepEqual(fast.changes.map((change) => [change.type, change.revision]), Array.from({ length: count }, (_, k) => ['change', 10 + k]));
    }
    assert.ok(accepted > 1_500, `the fast path should take the common case (took ${accepted})`);
  });

  test('the contract refuses an empty batch, more than the limit, and a batch with a bad change', () => {
    const change = { revision: 3, change: { kind: 'resource', resource: resource('web', '10.0.0.1') } };
    for (const changes of [[], Array(1_001).fill(change), [change, { revision: 4, change: { kind: 'resource' } }], [change, { ...change, extra: 1 }]]) {
      assert.equal(parseServerMessage(JSON.stringify({ type: 'changes', changes })).kind, 'invalid');
      assert.equal(fastPush({ type: 'changes', changes }), null);
    }
    // Other kinds than resource changes are the contract's to check, and it takes them.
    const mixed = parseServerMessage(JSON.stringify({ type: 'changes', changes: [change, { revision: 4, change: { kind: 'resource-removed', name: 'web' } }] }));
    assert.equal(mixed.kind, 'push');
    assert.equal(fastPush({ type: 'changes', changes: [change, { revision: 4, change: { kind: 'resource-removed', name: 'web' } }] }), null);
  });
});
