// The planned move as a pure machine (main/cluster/move-machine.ts), step by step from both sides, on a
// fake wall clock: every phase, and every failure the agents must survive — a lost datagram, an owner
// that dies mid-move, a probe answered by a stranger, a target that never takes over, timeouts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MOVE_TIMEOUT_MS, type HandoffNotify, type MoveIntent, type PreparedMove, type ReleasedMove, type RequestedMove } from '../../main/cluster/intents';
import { afterProbe, afterTake, nextStep, onReleaseNotice, type MoveFacts } from '../../main/cluster/move-machine';

const T0 = 1_700_000_000_000;
const STRANGER_MAC = '02:99:00:00:00:99';
const NOTIFY: HandoffNotify = { address: '10.250.0.2', port: 40000, nonce: 'ab'.repeat(16) };

const requested = (over: Partial<RequestedMove> = {}): RequestedMove => ({ id: 'move:web:1', kind: 'move', phase: 'requested', resource: 'web', fromNode: 'n1', toNode: 'n2', actor: 'alice', createdAt: T0, ...over });

/** The facts as `me` sees them: n1 owns the key unless said otherwise, nothing busy, the target alive. */
const facts = (me: string, over: Partial<MoveFacts> = {}): MoveFacts => ({ me, now: T0 + 100, owner: 'n1', busy: false, handedOff: false, targetAlive: true, stopping: false, ...over });

/** Runs the happy path up to the owner's release and returns each record on the way. */
function toReleased(): { prepared: PreparedMove; released: ReleasedMove } {
  const probe = nextStep(requested(), facts('n2'));
  assert.equal(probe?.type, 'probe');
  const written = afterProbe(requested(), { kind: 'quiet' }, 'n2', NOTIFY);
  assert.equal(written.type, 'write');
  const prepared = (written as { intent: MoveIntent }).intent as PreparedMove;
  const letGo = nextStep(prepared, facts('n1'));
  assert.equal(letGo?.type, 'let-go');
  const released: ReleasedMove = { ...(letGo as { released: Omit<ReleasedMove, 'releasedAt'> }).released, releasedAt: T0 + 150 };
  return { prepared, released };
}

describe('move machine: the happy path, both sides', () => {
  test('requested → target probes; quiet → prepared with the notify address', () => {
    assert.deepEqual(nextStep(requested(), facts('n2')), { type: 'probe', move: requested() });
    // The owner and bystanders wait for the target.
    assert.equal(nextStep(requested(), facts('n1')), null);
    assert.equal(nextStep(requested(), facts('n3')), null);
    const effect = afterProbe(requested(), { kind: 'quiet' }, 'n2', NOTIFY);
    assert.deepEqual(effect, { type: 'write', intent: { ...requested(), phase: 'prepared', notify: NOTIFY } });
  });

  test('prepared → the owner lets go once; the target waits', () => {
    const { prepared } = toReleased();
    assert.equal(nextStep(prepared, facts('n2')), null);
    const letGo = nextStep(prepared, facts('n1'));
    assert.equal(letGo?.type, 'let-go');
    // The released record starts from the shared fields: the target's notify address does not linger.
    assert.equal('notify' in (letGo as { released: object }).released, false);
    assert.equal(nextStep(prepared, facts('n1', { handedOff: true })), null);
    // A bystander that is not the owner does nothing.
    assert.equal(nextStep(prepared, facts('n3')), null);
  });

  test('the datagram with the prepared nonce releases the target at once', () => {
    const { prepared } = toReleased();
    const released = onReleaseNotice(prepared, { id: prepared.id, nonce: NOTIFY.nonce, releasedAt: T0 + 150 });
    assert.deepEqual(released, { ...requested(), phase: 'released', releasedAt: T0 + 150 });
  });

  test('a datagram for another move, with another nonce, or for a move without notify is ignored', () => {
    const { prepared } = toReleased();
    assert.equal(onReleaseNotice(prepared, { id: 'move:db:1', nonce: NOTIFY.nonce, releasedAt: T0 }), null);
    assert.equal(onReleaseNotice(prepared, { id: prepared.id, nonce: 'cd'.repeat(16), releasedAt: T0 }), null);
    assert.equal(onReleaseNotice({ ...prepared, notify: null }, { id: prepared.id, nonce: NOTIFY.nonce, releasedAt: T0 }), null);
    assert.equal(onReleaseNotice(undefined, { id: prepared.id, nonce: NOTIFY.nonce, releasedAt: T0 }), null);
  });

  test('held → online here with the handoff time, and the move ends', () => {
    const { released } = toReleased();
    const effects = afterTake(released, { kind: 'held', mac: '02:00:00:00:00:02' }, T0 + 150 + 3.456);
    assert.deepEqual(effects, [
      { type: 'record-online', mac: '02:00:00:00:00:02', handoffMs: 3.46 },
      { type: 'end', move: released, failure: null },
    ]);
    // Once the key is the target's, any later look ends the move without a failure.
    assert.deepEqual(nextStep(released, facts('n2', { owner: 'n2' })), { type: 'end', move: released, failure: null });
  });

  test('a clock that stepped back gives a handoff time of 0, not a negative one', () => {
    const { released } = toReleased();
    const [record] = afterTake(released, { kind: 'held', mac: '02:00:00:00:00:02' }, T0);
    assert.deepEqual(record, { type: 'record-online', mac: '02:00:00:00:00:02', handoffMs: 0 });
  });
});

describe('move machine: failures', () => {
  test('a stopping target takes nothing: a requested move ends at once with the reason, before any probe', () => {
    assert.deepEqual(nextStep(requested(), facts('n2', { stopping: true })), { type: 'end', move: requested(), failure: 'n2 is stopping' });
    assert.deepEqual(nextStep(requested({ fromNode: null }), facts('n2', { owner: null, stopping: true })), { type: 'end', move: requested({ fromNode: null }), failure: 'n2 is stopping' });
    // Once the owner let go, the stopping target still takes the address: nobody else would hold it.
    const { released } = toReleased();
    assert.deepEqual(nextStep(released, facts('n2', { stopping: true })), { type: 'take', move: released, from: 'n1' });
  });

  test('lost datagram: the store\'s "released" makes the target take over from the old owner', () => {
    const { released } = toReleased();
    assert.deepEqual(nextStep(released, facts('n2')), { type: 'take', move: released, from: 'n1' });
  });

  test('a stranger answers the trusted probe: the move fails before anything changed hands', () => {
    const effect = afterProbe(requested(), { kind: 'answered', ip: '10.250.0.100', macs: [STRANGER_MAC] }, 'n2', NOTIFY);
    assert.equal(effect.type, 'write');
    const failed = (effect as { intent: MoveIntent }).intent;
    assert.equal(failed.phase, 'failed');
    assert.equal(failed.phase === 'failed' && failed.detail, `conflict: 10.250.0.100 answered by ${STRANGER_MAC}; stays on n1`);
    // The owner never lets go of a failed move; the target ends it with the reason.
    assert.equal(nextStep(failed, facts('n1')), null);
    assert.deepEqual(nextStep(failed, facts('n2')), { type: 'end', move: failed, failure: failed.phase === 'failed' ? failed.detail : '' });
  });

  test('the target\'s interface fails under the probe: the move ends, the owner keeps the address', () => {
    assert.deepEqual(afterProbe(requested(), { kind: 'interrupted', ifname: 'eth0' }, 'n2', NOTIFY), {
      type: 'end',
      move: requested(),
      failure: 'interface eth0 on n2 failed during the probe; stays on n1',
    });
    assert.equal(afterProbe(requested({ fromNode: null }), { kind: 'interrupted', ifname: 'eth0' }, 'n2', null).type, 'end');
  });

  test('the owner dies before the probe: the target takes the unowned address', () => {
    assert.deepEqual(nextStep(requested(), facts('n2', { owner: null })), { type: 'take-unowned', move: requested() });
  });

  test('the owner dies after "prepared": the target waits, and ends the move when it times out', () => {
    const { prepared } = toReleased();
    assert.equal(nextStep(prepared, facts('n2', { owner: null })), null);
    assert.deepEqual(nextStep(prepared, facts('n2', { owner: null, now: T0 + MOVE_TIMEOUT_MS + 1 })), { type: 'end', move: prepared, failure: 'timed out' });
  });

  test('the owner dies after letting go: the target still takes over from the node named in the move', () => {
    const { released } = toReleased();
    assert.deepEqual(nextStep(released, facts('n2', { owner: null })), { type: 'take', move: released, from: 'n1' });
  });

  test('the key went elsewhere during the take-over: the local claim is dropped and the move fails', () => {
    const { released } = toReleased();
    assert.deepEqual(afterTake(released, { kind: 'transfer-lost', current: 'n3' }, T0 + 200), [
      { type: 'drop-local' },
      { type: 'end', move: released, failure: 'ownership changed meanwhile (now n3)' },
    ]);
    assert.equal((afterTake(released, { kind: 'transfer-lost', current: null }, T0 + 200)[1] as { failure: string }).failure, 'ownership changed meanwhile (now nobody)');
  });

  test('the target could not hold the address: the key is let go and the move fails with the reason', () => {
    const { released } = toReleased();
    assert.deepEqual(afterTake(released, { kind: 'not-held', reason: 'link-down' }, T0 + 200), [
      { type: 'release-key' },
      { type: 'end', move: released, failure: 'link-down' },
    ]);
  });

  test('the target dies after the owner let go: the owner aborts and serves again', () => {
    const { released } = toReleased();
    assert.equal(nextStep(released, facts('n1')), null);
    assert.deepEqual(nextStep(released, facts('n1', { targetAlive: false })), { type: 'abort', move: released, failure: 'n2 did not take the address; it stays on n1' });
  });

  test('timeouts, on the fake clock: nothing happens at the limit, the move ends one ms after it', () => {
    const limit = T0 + MOVE_TIMEOUT_MS;
    assert.equal(nextStep(requested(), facts('n2', { now: limit }))?.type, 'probe');
    assert.deepEqual(nextStep(requested(), facts('n2', { now: limit + 1 })), { type: 'end', move: requested(), failure: 'timed out' });
    const { released } = toReleased();
    // A stalled target: the owner takes the move back once it timed out.
    assert.equal(nextStep(released, facts('n1', { now: limit })), null);
    assert.equal(nextStep(released, facts('n1', { now: limit + 1 }))?.type, 'abort');
  });

  test('a target with work in flight waits; an owner never acts on a move it did not start from', () => {
    assert.equal(nextStep(requested(), facts('n2', { busy: true })), null);
    const { prepared } = toReleased();
    // n1 owns the key now but the move was requested while n3 owned it: a stale record, not n1's to act on.
    assert.equal(nextStep({ ...prepared, fromNode: 'n3' }, facts('n1')), null);
  });
});
