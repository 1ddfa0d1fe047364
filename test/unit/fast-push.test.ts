// The console's fast check of snapshot and resource-change pushes (preload/contract/fast-push.ts)
// must never accept what the contract refuses, and must give the contract's value when it accepts.
// Differential: valid resources mutated at random, each message judged by both. The fields mutated
// are read from the zod schemas, so a field the contract gains is mutated here without an edit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fastPush } from '../../preload/contract/fast-push';
import { FailureReasonSchema, ResourceStatusSchema, ResourceViewSchema, SnapshotSchema, type ResourceView } from '../../preload/contract/domain';
import { encodeRows } from '../../preload/contract/compact-rows';
import { node, resource } from './renderer-fixtures';
import { seededRandom as prng } from '../seeded-random';
import { fastCheckAgrees } from './fast-check-agreement';


const long = (n: number): string => 'x'.repeat(n);
const WEIRD: unknown[] = [
  null, 0, -1, 1.5, 2 ** 53, 1e300, '', 'a', long(128), long(129), long(1024), long(1025), true, false, [], {}, ['a'], Array(65).fill('n'),
  '10.0.0.1', '010.0.0.1', '256.0.0.1', '1.2.3', '02:00:00:00:00:01', '02:00:00:00:00:0A', 'online', 'failed', 'bogus', 'never', 'request', 'reply', 'always', 'once',
  { mode: 'never' }, { mode: 'immediate' }, { mode: 'window', startHour: 1, endHour: 2 }, { mode: 'window', startHour: 24, endHour: 2 }, { mode: 'window', startHour: 1 }, { mode: 'never', x: 1 },
  { kind: 'no-eligible-node' }, { kind: 'conflict', mac: '02:00:00:00:00:01' }, { kind: 'conflict', mac: 'zz' }, { kind: 'interface-missing', node: 'n1', detail: long(1025) },
  { kind: 'register-failed', node: 'n1', detail: '' }, { eth0: 'n1' }, { '': 'x' }, Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])),
  JSON.parse('{"__proto__":"x"}'), { a: '' }, 0.5, 23, 32, 33, 9, 10, 11, 60_000, 60_001, 1_795_000_000_000,
];
type Path = Array<string | number>;
const FAILURE_KEYS = [...new Set(FailureReasonSchema.options.flatMap((option) => Object.keys(option.shape)))];
const PATHS: Path[] = [
  ...Object.keys(ResourceViewSchema.shape).map((key): Path => [key]),
  ...Object.keys(ResourceStatusSchema.shape).map((key): Path => ['status', key]),
  ...FAILURE_KEYS.map((key): Path => ['status', 'failure', key]),
  ['extra'], ['status', 'extra'], ['status', 'failure', 'extra'], ['failback', 'startHour'], ['failback', 'mode'], ['failback', 'extra'], ['possibleOwners', 0], ['interfaces', 'n1'],
  ['constructor'], ['status', 'constructor'], ['interfaces', 'constructor'],
];
const SNAPSHOT_KEYS = [...Object.keys(SnapshotSchema.shape), 'extra'];
const SNAPSHOT_WEIRD: unknown[] = [[], null, {}, [node('n1'), node('n2')], [{ ...node('n1'), state: 'gone' }], [{ ...node('n1'), extra: 1 }], ['x']];
const FAILURES: unknown[] = [
  { kind: 'conflict', mac: '0a:1b:2c:3d:4e:5f' }, { kind: 'no-eligible-node' }, { kind: 'interface-missing', node: 'n1', detail: 'gone' }, { kind: 'register-failed', node: 'n2', detail: 'EPERM' },
];

/** Valid resources with every optional part and failure kind. */
function resourceBases(): ResourceView[] {
  return [
    resource('web', '10.213.0.50'),
    resource('db', '10.213.0.51', { owner: null, state: 'failed', lastHandoffMs: 0.4, possibleOwners: ['n1', 'n2'] }),
    { ...resource('w', '10.0.0.9'), failback: { mode: 'window', startHour: 22, endHour: 6 }, interfaces: { n1: 'eth0' } },
    { ...resource('m', '192.168.1.1'), announceCount: 3, announceIntervalMs: 500, maintenanceUntil: 1_795_000_000_000 },
    ...FAILURES.map((failure, i) => {
      const base = resource(`f${i}`, '10.213.0.60', { owner: null, state: 'failed' });
      return { ...base, status: { ...base.status, failure } } as ResourceView;
    }),
  ];
}

describe('fast push check', () => {
  test('never accepts what the contract refuses, and accepts the common case with the same value', () => {
    const random = prng(1);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    const bases: unknown[] = resourceBases();
    for (const base of bases) {
      const message = { type: 'change', revision: 1, change: { kind: 'resource', resource: base } };
      assert.notEqual(fastPush(structuredClone(message)), null, `the fast path declined a plain resource: ${JSON.stringify(base).slice(0, 200)}`);
    }
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const value = structuredClone(pick(bases)) as Record<string | number, unknown>;
      if (i % 4 !== 0) {
        const path = pick(PATHS);
        let target: unknown = value;
        for (const key of path.slice(0, -1)) target = typeof target === 'object' && target !== null ? (target as Record<string | number, unknown>)[key] : undefined;
        if (typeof target === 'object' && target !== null) {
          const last = path.at(-1) as string | number;
          if (random() < 0.1) delete (target as Record<string | number, unknown>)[last];
          else (target as Record<string | number, unknown>)[last] = structuredClone(pick(WEIRD));
        }
      }
      const snapshot: Record<string, unknown> = { nodes: [node('n1')], resources: [value], conflicts: [], events: [] };
      if (random() < 0.1) snapshot[pick(SNAPSHOT_KEYS)] = structuredClone(pick(SNAPSHOT_WEIRD));
      const message =
        random() < 0.5
          ? { type: 'change', revision: pick([1, 0, -1, 1.5, 7]), change: { kind: 'resource', resource: value } }
          : { type: 'snapshot', revision: 3, snapshot };
      const fast = fastCheckAgrees(message, 'what');
      if (fast === null) continue;
      accepted++;
    }
    assert.ok(accepted > 2_000, `the fast path should take the common case (took ${accepted})`);
  });
});

describe('fast check of the paged stream (head, compact rows)', () => {
  const CELL_WEIRD: unknown[] = [null, -1, 0, 1, 2, 3, 4, 5, 99, 0.5, 'x', '', long(129), '10.0.0.1', true, [], {}];
  const HEAD_KEYS = ['view', 'resourceCount', 'matching', 'states', 'page', 'nodes', 'revision', 'extra'];
  const HEAD_WEIRD: unknown[] = [
    null, -1, 0, 7, 100_001, 1.5, [], {}, { online: 1 }, { online: 1, offline: 0, failed: 0, 'online-pending': 0, 'offline-pending': 0 },
    { sort: { column: 'name', direction: 'asc' }, filter: '', pageSize: 0 }, { sort: { column: 'bogus', direction: 'asc' }, filter: '', pageSize: 5 },
    { sort: { column: 'state', direction: 'desc' }, filter: 'x', pageSize: 500 }, { sort: { column: 'name', direction: 'asc' }, filter: long(257), pageSize: 5 }, [node('n1')], ['x'],
  ];

  test('rows: never accepts what the contract refuses, and gives the contract\'s value', () => {
    const random = prng(2);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    let accepted = 0;
    for (let i = 0; i < 6_000; i++) {
      const rows = resourceBases().filter(() => random() < 0.6);
      const encoded = encodeRows(rows) as unknown as Record<string, unknown[]>;
      if (i % 3 !== 0) {
        const roll = random();
        const cells = encoded.cells as unknown[];
        const specs = encoded.specs as Array<Record<string, unknown>>;
        if (roll < 0.4 && cells.length > 0) cells[Math.floor(random() * cells.length)] = structuredClone(pick(CELL_WEIRD));
        else if (roll < 0.6 && specs.length > 0) {
          const spec = pick(specs);
          const path = pick(PATHS).filter((key) => key !== 'status');
          const key = path[0] as string;
          if (random() < 0.2) delete spec[key];
          else spec[random() < 0.1 ? pick(['name', 'ip', 'prefix', 'status']) : key] = structuredClone(pick(WEIRD));
        } else if (roll < 0.7) (encoded.strings as unknown[]).push(pick(WEIRD));
        else if (roll < 0.8) (encoded.failures as unknown[]).push(pick(FAILURES));
        else if (roll < 0.9) (encoded as Record<string, unknown>)[pick(['specs', 'failures', 'strings', 'cells', 'raw', 'extra'])] = structuredClone(pick(SNAPSHOT_WEIRD));
        else (encoded.raw as unknown[]).push(structuredClone(pick(WEIRD)));
      }
      const message = { type: 'snapshot-rows', revision: pick([3, 3, 3, -1, 1.5]), rows: encoded, done: pick([true, false, true, 'yes']) };
      const fast = fastCheckAgrees(message, 'rows');
      if (fast === null) continue;
      accepted++;
    }
    assert.ok(accepted > 800, `the fast path should take the common case (took ${accepted})`);
  });

  test('head: never accepts what the contract refuses, and gives the contract\'s value', () => {
    const random = prng(3);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
    let accepted = 0;
    for (let i = 0; i < 4_000; i++) {
      const page = resourceBases().filter(() => random() < 0.5);
      const head: Record<string, unknown> = {
        type: 'snapshot-head', revision: 4, view: { sort: { column: 'name', direction: 'asc' }, filter: '', pageSize: 100 },
        resourceCount: 9, matching: 9, states: { online: 5, offline: 1, failed: 3, 'online-pending': 0, 'offline-pending': 0 },
        page, nodes: [node('n1')], conflicts: [], events: [], rejected: [],
      };
      if (i % 3 !== 0) {
        if (random() < 0.5 && page.length > 0) {
          const row = pick(page) as unknown as Record<string, unknown>;
          row[pick(Object.keys(ResourceViewSchema.shape))] = structuredClone(pick(WEIRD));
        } else head[pick(HEAD_KEYS)] = structuredClone(pick(HEAD_WEIRD));
      }
      const fast = fastCheckAgrees(head, 'a head');
      if (fast === null) continue;
      accepted++;
    }
    assert.ok(accepted > 1_000, `the fast path should take the common case (took ${accepted})`);
  });
});
