// The batch move as a pure machine (main/cluster/batch-machine.ts), from both sides on a fake wall clock:
// the happy path, addresses left out by the probe, owners and targets that die or stop, timeouts, the
// datagram, the take-over's outcomes per address — and the planner that groups a drain into batches.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { afterBatchProbe, afterBatchTake, nextBatchStep, onBatchReleaseNotice, requestBatch, type BatchFacts } from '../../main/cluster/batch-machine';
import { MAX_BATCH, MOVE_TIMEOUT_MS, movingOf, parseIntent, type HandoffNotify, type PreparedBatch, type ReleasedBatch, type RequestedBatch } from '../../main/cluster/intents';
import type { ProbeHeard, TakeOutcome } from '../../main/cluster/move-machine';
import { nextBatches } from '../../main/cluster/move-waves';

const T0 = 1_700_000_000_000;
const NOTIFY: HandoffNotify = { address: '10.250.0.2', port: 40000, nonce: 'cd'.repeat(16) };
const STRANGER = '02:99:00:00:00:99';

const requested = (resources = ['a', 'b', 'c']): RequestedBatch => requestBatch(resources, 'n1', 'n2', 'drain', T0, 'x.1');
const facts = (me: string, over: Partial<BatchFacts> = {}): BatchFacts => ({ me, now: T0 + 100, busy: false, handedOff: false, ownerAlive: true, targetAlive: true, stopping: false, ...over });
const quiet = (names: readonly string[]): Map<string, ProbeHeard> => new Map(names.map((n) => [n, { kind: 'quiet' }]));

function prepared(excluded: PreparedBatch['excluded'] = []): PreparedBatch {
  return { ...requested(), phase: 'prepared', notify: NOTIFY, excluded };
}

describe('batch machine: the happy path', () => {
  test('requested: the target probes every address; owner and bystanders wait', () => {
    assert.deepEqual(nextBatchStep(requested(), facts('n2')), { type: 'probe', batch: requested() });
    assert.equal(nextBatchStep(requested(), facts('n1')), null);
    assert.equal(nextBatchStep(requested(), facts('n3')), null);
    assert.equal(nextBatchStep(requested(), facts('n2', { busy: true })), null, 'work in flight: wait');
  });

  test('a quiet probe prepares all of them; the owner lets all go in one effect; the target takes them', () => {
    const effect = afterBatchProbe(requested(), quiet(['a', 'b', 'c']), [], NOTIFY);
    assert.deepEqual(effect, { type: 'write', batch: prepared(), excluded: [] });
    const letGo = nextBatchStep(prepared(), facts('n1'));
    assert.equal(letGo?.type, 'let-go');
    const released = (letGo as { released: Omit<ReleasedBatch, 'releasedAt'> }).released;
    assert.deepEqual(released, { ...requested(), phase: 'released', excluded: [] });
    assert.equal(nextBatchStep(prepared(), facts('n1', { handedOff: true })), null, 'let go once');
    assert.equal(nextBatchStep(prepared(), facts('n2')), null, "the owner's turn");
    const record: ReleasedBatch = { ...released, releasedAt: T0 + 150 };
    assert.deepEqual(nextBatchStep(record, facts('n2')), { type: 'take', batch: record });
    assert.equal(nextBatchStep(record, facts('n1')), null, 'the owner waits for the target');
  });

  test('every record on the way is what another agent would read back (parseIntent)', () => {
    for (const record of [requested(), prepared([{ resource: 'b', detail: 'conflict' }]), { ...requested(), phase: 'released' as const, excluded: [], releasedAt: T0 + 1 }]) {
      assert.deepEqual(parseIntent(JSON.parse(JSON.stringify(record))), { ok: true, intent: record });
    }
  });
});

describe('batch machine: the probe leaves out what another station answers for', () => {
  test('answered, interrupted, unprobed and missing results are excluded with their reason; the rest moves', () => {
    const heard = new Map<string, ProbeHeard>([
      ['a', { kind: 'quiet' }],
      ['b', { kind: 'answered', ip: '10.0.0.2', macs: [STRANGER] }],
      ['c', { kind: 'interrupted', ifname: 'lan0' }],
    ]);
    const effect = afterBatchProbe(requested(['a', 'b', 'c', 'd', 'e']), heard, [{ resource: 'd', detail: 'resource removed' }], NOTIFY);
    assert.equal(effect.type, 'write');
    const batch = (effect as { batch: PreparedBatch }).batch;
    assert.deepEqual(batch.excluded.map((e) => e.resource), ['d', 'b', 'c', 'e']);
    assert.match(batch.excluded[1]!.detail, /conflict: 10\.0\.0\.2 answered by 02:99:00:00:00:99; stays on n1/);
    assert.match(batch.excluded[2]!.detail, /interface lan0 on n2 failed during the probe/);
    assert.match(batch.excluded[3]!.detail, /not probed/);
    assert.deepEqual(movingOf(batch), ['a']);
    assert.deepEqual((effect as { excluded: unknown }).excluded, batch.excluded, 'each exclusion is audited');
  });

  test('nothing left to move: the batch ends with every failure', () => {
    const heard = new Map<string, ProbeHeard>([['a', { kind: 'answered', ip: '10.0.0.1', macs: [STRANGER] }]]);
    const effect = afterBatchProbe(requested(['a', 'b']), heard, [{ resource: 'b', detail: 'resource removed' }], NOTIFY);
    assert.equal(effect.type, 'end');
    assert.deepEqual((effect as { failures: Array<{ resource: string }> }).failures.map((f) => f.resource), ['b', 'a']);
  });
});

describe('batch machine: failures on both sides', () => {
  test('a target that is stopping, or whose owner left, ends the batch before anything changed hands', () => {
    const stopping = nextBatchStep(requested(), facts('n2', { stopping: true }));
    assert.equal(stopping?.type, 'end');
    assert.deepEqual((stopping as { failures: Array<{ detail: string }> }).failures.map((f) => f.detail), ['n2 is stopping', 'n2 is stopping', 'n2 is stopping']);
    assert.equal(nextBatchStep(requested(), facts('n2', { ownerAlive: false }))?.type, 'end');
    assert.equal(nextBatchStep(prepared(), facts('n2', { ownerAlive: false }))?.type, 'end');
  });

  test('the owner withdraws a batch its target never answered (dead or timed out), and never lets go towards a dead target', () => {
    assert.deepEqual(nextBatchStep(requested(), facts('n1', { targetAlive: false })), { type: 'end', batch: requested(), failures: [] });
    assert.deepEqual(nextBatchStep(requested(), facts('n1', { now: T0 + MOVE_TIMEOUT_MS + 1 })), { type: 'end', batch: requested(), failures: [] });
    assert.deepEqual(nextBatchStep(prepared(), facts('n1', { targetAlive: false })), { type: 'end', batch: prepared(), failures: [] });
  });

  test('after letting go, the owner takes the batch back if the target dies or the batch times out', () => {
    const released: ReleasedBatch = { ...requested(), phase: 'released', excluded: [], releasedAt: T0 + 10 };
    assert.equal(nextBatchStep(released, facts('n1', { targetAlive: false }))?.type, 'abort');
    assert.equal(nextBatchStep(released, facts('n1', { now: T0 + MOVE_TIMEOUT_MS + 1 }))?.type, 'abort');
    // A target past the timeout does not take any more: the owner serves again.
    assert.deepEqual(nextBatchStep(released, facts('n2', { now: T0 + MOVE_TIMEOUT_MS + 1 })), { type: 'end', batch: released, failures: [] });
    const late = nextBatchStep(requested(), facts('n2', { now: T0 + MOVE_TIMEOUT_MS + 1 }));
    assert.equal((late as { failures: unknown[] }).failures.length, 3, 'a requested batch that timed out fails each address');
  });
});

describe('batch machine: the datagram and the take-over', () => {
  test('a release notice counts only for the prepared batch, with its nonce', () => {
    const notice = { id: prepared().id, nonce: NOTIFY.nonce, releasedAt: T0 + 200 };
    assert.deepEqual(onBatchReleaseNotice(prepared([{ resource: 'c', detail: 'x' }]), notice), { ...requested(), phase: 'released', excluded: [{ resource: 'c', detail: 'x' }], releasedAt: T0 + 200 });
    assert.equal(onBatchReleaseNotice(prepared(), { ...notice, nonce: 'ef'.repeat(16) }), null);
    assert.equal(onBatchReleaseNotice(prepared(), { ...notice, id: 'batch:n1:n2:other' }), null);
    assert.equal(onBatchReleaseNotice(undefined, notice), null);
    assert.equal(onBatchReleaseNotice({ ...prepared(), notify: null }, notice), null);
  });

  test('per address: held → online with the handoff time; key lost → drop; not held → let the key go; excluded ones untouched', () => {
    const released: ReleasedBatch = { ...requestBatch(['a', 'b', 'c', 'd', 'e'], 'n1', 'n2', 'drain', T0, 'y'), phase: 'released', excluded: [{ resource: 'e', detail: 'conflict' }], releasedAt: T0 + 100 };
    const outcomes = new Map<string, TakeOutcome>([
      ['a', { kind: 'held', mac: '02:00:00:00:00:02' }],
      ['b', { kind: 'transfer-lost', current: 'n3' }],
      ['c', { kind: 'not-held', reason: 'conflict with 02:99:00:00:00:99' }],
    ]);
    const result = afterBatchTake(released, outcomes, T0 + 103.456);
    assert.deepEqual(result.online, [{ resource: 'a', mac: '02:00:00:00:00:02', handoffMs: 3.46 }]);
    assert.deepEqual(result.drop, ['b']);
    assert.deepEqual(result.releaseKeys, ['c']);
    assert.deepEqual(result.failures.map((f) => f.resource), ['b', 'c', 'd'], 'd had no outcome; e was excluded and is not the target’s');
    assert.match(result.failures[0]!.detail, /ownership changed meanwhile \(now n3\)/);
  });
});

describe('batch records another agent wrote', () => {
  const base = (): Record<string, unknown> => JSON.parse(JSON.stringify(prepared([{ resource: 'b', detail: 'x' }]))) as Record<string, unknown>;
  const bad: Array<[string, (r: Record<string, unknown>) => void]> = [
    ['no resources', (r) => (r.resources = [])],
    ['too many', (r) => (r.resources = Array.from({ length: MAX_BATCH + 1 }, (_, i) => `r${i}`))],
    ['a name twice', (r) => (r.resources = ['a', 'a'])],
    ['a name not a string', (r) => (r.resources = ['a', 7])],
    ['same node both ends', (r) => (r.toNode = 'n1')],
    ['fromNode null', (r) => (r.fromNode = null)],
    ['exclusion of a resource not in the batch', (r) => (r.excluded = [{ resource: 'zz', detail: 'x' }])],
    ['exclusion twice', (r) => (r.excluded = [{ resource: 'b', detail: 'x' }, { resource: 'b', detail: 'y' }])],
    ['exclusion without detail', (r) => (r.excluded = [{ resource: 'b' }])],
    ['excluded missing', (r) => delete r.excluded],
    ['notify hostile', (r) => (r.notify = { address: '10.0.0.1; rm', port: 1, nonce: 'x' })],
    ['unknown phase', (r) => (r.phase = 'failed')],
  ];
  for (const [what, spoil] of bad) {
    test(`refused: ${what}`, () => {
      const record = base();
      spoil(record);
      assert.equal(parseIntent(record).ok, false);
    });
  }
});

describe('nextBatches: a drain grouped by target', () => {
  const wanted = (count: number, targets: readonly string[]): Array<{ resource: string; to: string }> =>
    Array.from({ length: count }, (_, i) => ({ resource: `r${String(i).padStart(4, '0')}`, to: targets[i % targets.length]! }));

  test('1,000 over two targets: one batch each, in the order wanted', () => {
    const { batches, singles } = nextBatches(wanted(1000, ['n2', 'n3']), new Set(), () => false, MAX_BATCH);
    assert.deepEqual(batches.map((b) => [b[0]!.to, b.length]), [['n2', 500], ['n3', 500]]);
    assert.deepEqual(singles, []);
    assert.deepEqual(batches[0]!.slice(0, 2).map((m) => m.resource), ['r0000', 'r0002']);
  });

  test('a batch is capped; a target with an open batch waits for it; moves under way are skipped', () => {
    const { batches } = nextBatches(wanted(10, ['n2']), new Set(), () => false, 4);
    assert.deepEqual(batches.map((b) => b.length), [4]);
    assert.deepEqual(nextBatches(wanted(10, ['n2', 'n3']), new Set(['n2']), () => false, 8).batches.map((b) => b[0]!.to), ['n3']);
    const under = nextBatches(wanted(6, ['n2']), new Set(), (r) => r < 'r0003', 8);
    assert.deepEqual(under.batches[0]!.map((m) => m.resource), ['r0003', 'r0004', 'r0005']);
  });

  test('one address towards a target is a single move, not a batch of one', () => {
    const { batches, singles } = nextBatches([{ resource: 'a', to: 'n2' }, { resource: 'b', to: 'n3' }, { resource: 'c', to: 'n3' }], new Set(), () => false, 8);
    assert.deepEqual(singles.map((m) => m.resource), ['a']);
    assert.deepEqual(batches.map((b) => b.map((m) => m.resource)), [['b', 'c']]);
    assert.throws(() => nextBatches([], new Set(), () => false, 1), RangeError);
  });
});
