// The chaos soak's fault schedule (test/bench/soak-schedule.ts): reproducible from its seed, every
// kind met even in CI's 2-minute run, and never two faults at once (so never every node down).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSchedule, FAULT_KINDS, NODE_FAULTS, parseFaultKinds, type Fault } from '../bench/soak-schedule';
import { seededRandom } from '../seeded-random';

const NODES = ['n1', 'n2', 'n3'];
const TWO_MINUTES = 2 * 60_000;
const TEN_MINUTES = 10 * 60_000;

/** The planned span a fault occupies: from its start until it is undone (its actions take up to 1 s). */
const span = (f: Fault): [number, number] => [f.atMs, f.atMs + f.holdMs + 1000];

describe('soak schedule', () => {
  test('the same seed gives the same schedule; another seed another one', () => {
    const a = buildSchedule({ seed: 42, durationMs: TEN_MINUTES, nodes: NODES });
    const b = buildSchedule({ seed: 42, durationMs: TEN_MINUTES, nodes: NODES });
    const c = buildSchedule({ seed: 43, durationMs: TEN_MINUTES, nodes: NODES });
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('every kind appears in a 2-minute soak, whatever the seed', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const kinds = new Set(buildSchedule({ seed, durationMs: TWO_MINUTES, nodes: NODES }).map((f) => f.kind));
      assert.deepEqual([...kinds].sort(), [...FAULT_KINDS].sort(), `seed ${seed}`);
    }
  });

  test('faults never overlap: at most one node is faulted at any moment, and etcd faults meet no node fault', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const faults = buildSchedule({ seed, durationMs: TEN_MINUTES, nodes: NODES });
      for (let i = 1; i < faults.length; i++) {
        const [, previousEnd] = span(faults[i - 1]!);
        assert.ok(faults[i]!.atMs >= previousEnd + faults[i - 1]!.pauseMs, `seed ${seed}: fault ${i} starts before fault ${i - 1} is undone and settled`);
      }
    }
  });

  test('node faults name a node of the cluster; the others name none; values within their ranges', () => {
    for (let seed = 1; seed <= 50; seed++) {
      for (const fault of buildSchedule({ seed, durationMs: TEN_MINUTES, nodes: NODES })) {
        if (NODE_FAULTS.has(fault.kind)) assert.ok(fault.node !== null && NODES.includes(fault.node), JSON.stringify(fault));
        else assert.equal(fault.node, null, JSON.stringify(fault));
        assert.ok(fault.atMs < TEN_MINUTES && fault.holdMs >= 0 && fault.pauseMs >= 3000);
        if (fault.kind === 'move') assert.ok(fault.count >= 1 && fault.count <= 10);
      }
    }
  });

  test('each node is targeted in a 10-minute soak, and faults are spread over the whole duration', () => {
    const faults = buildSchedule({ seed: 7, durationMs: TEN_MINUTES, nodes: NODES });
    assert.deepEqual([...new Set(faults.map((f) => f.node).filter((n) => n !== null))].sort(), NODES);
    assert.ok(faults.length >= 40, `${faults.length} faults in 10 minutes`);
    assert.ok(faults.at(-1)!.atMs > TEN_MINUTES - 30_000, 'the last fault starts near the end');
  });

  test('a subset of kinds (SOAK_FAULTS) gives only those kinds; unknown kinds are refused', () => {
    const kinds = parseFaultKinds('move, kill');
    assert.deepEqual(kinds, ['kill', 'move']);
    const faults = buildSchedule({ seed: 1, durationMs: TWO_MINUTES, nodes: NODES, kinds });
    assert.deepEqual([...new Set(faults.map((f) => f.kind))].sort(), ['kill', 'move']);
    assert.deepEqual(parseFaultKinds(''), [...FAULT_KINDS]);
    assert.throws(() => parseFaultKinds('kill,reboot'), /unknown fault kind reboot/);
  });

  test('the PRNG is uniform enough and stays in [0, 1)', () => {
    const random = seededRandom(1);
    const values = Array.from({ length: 10_000 }, random);
    assert.ok(values.every((v) => v >= 0 && v < 1));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  });
});
