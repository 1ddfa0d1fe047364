// The move dialog's state machine, its words, and the "likely best node" hint it probes from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionResult, ProbeResult } from '../../preload/contract/protocol';
import { canCommit, describeMoveResult, describeProbe, initialMove, moveReducer, preflightOf, type MoveEvent, type MoveState } from '../../renderer/src/model/move-flow';
import { likelyBestNode, loadsOf, moveBlocker } from '../../renderer/src/model/placement-hint';
import { node, resource } from './renderer-fixtures';

const PROBE: ProbeResult = { node: 'n2', ip: '10.213.0.50', verdict: 'owner-only', answeredBy: ['02:00:00:00:00:01'], ownerMac: '02:00:00:00:00:01', durationMs: 602.5 };
const RESULT: ActionResult = { outcome: 'done', detail: 'web moved to n2', auditSeq: 7, resource: resource('web', '10.213.0.50', { owner: 'n2' }), node: null, handoffMs: 0.84, durationMs: 1210 };

function run(state: MoveState, ...events: MoveEvent[]): MoveState {
  return events.reduce(moveReducer, state);
}

describe('move dialog states', () => {
  test('pick, probe, commit, result: the pre-flight stays with the move', () => {
    const probing = initialMove('n2', 'n2', 1);
    assert.equal(probing.phase, 'probing');
    assert.equal(canCommit(probing), false, 'not before the pre-flight has answered');
    const probed = run(probing, { type: 'probe-result', ticket: 1, probe: PROBE });
    assert.equal(probed.phase, 'probed');
    assert.equal(canCommit(probed), true);
    const moving = run(probed, { type: 'commit', at: 5 });
    assert.deepEqual(moving, { phase: 'moving', target: 'n2', startedAt: 5, preflight: { kind: 'probe', probe: PROBE } });
    assert.equal(run(moving, { type: 'target', target: 'n3', probeNode: 'n3', ticket: 2 }), moving, 'the target cannot change mid-move');
    assert.equal(run(moving, { type: 'commit', at: 6 }), moving, 'no second commit');
    const moved = run(moving, { type: 'move-result', result: RESULT });
    assert.equal(moved.phase, 'moved');
    assert.deepEqual(preflightOf(moved), { kind: 'probe', probe: PROBE });
  });

  test('a probe answer for a target the operator has left is ignored', () => {
    const first = initialMove('n2', 'n2', 1);
    const second = run(first, { type: 'target', target: 'n3', probeNode: 'n3', ticket: 2 });
    const stale = run(second, { type: 'probe-result', ticket: 1, probe: PROBE }, { type: 'probe-error', ticket: 1, message: 'late' });
    assert.deepEqual(stale, { phase: 'probing', target: 'n3', probeNode: 'n3', ticket: 2 });
    const answered = run(stale, { type: 'probe-error', ticket: 2, message: 'ask n3\'s agent' });
    assert.deepEqual(answered, { phase: 'probe-failed', target: 'n3', probeNode: 'n3', message: 'ask n3\'s agent' });
    assert.equal(canCommit(answered), true, 'a pre-flight that cannot run does not block the move');
  });

  test('no node to probe from, a failed move, and trying again', () => {
    const idle = initialMove('best', null, 1);
    assert.equal(idle.phase, 'idle');
    const failed = run(idle, { type: 'commit', at: 1 }, { type: 'move-error', message: 'no other live node may hold web' });
    assert.deepEqual(failed, { phase: 'failed', target: 'best', message: 'no other live node may hold web', preflight: { kind: 'none' } });
    assert.equal(run(failed, { type: 'commit', at: 2 }).phase, 'moving');
    assert.equal(run(idle, { type: 'move-result', result: RESULT }), idle, 'a result without a move is ignored');
  });
});

describe('words', () => {
  test('the three pre-flight verdicts', () => {
    assert.deepEqual(describeProbe({ ...PROBE, verdict: 'free', answeredBy: [], ownerMac: null }).tone, 'ok');
    assert.match(describeProbe({ ...PROBE, verdict: 'free', answeredBy: [], ownerMac: null }).headline, /^Free$/);
    assert.match(describeProbe(PROBE).headline, /current owner only/);
    const conflict = describeProbe({ ...PROBE, verdict: 'conflict', answeredBy: ['02:00:00:00:00:01', '0a:1b:2c:3d:4e:5f'] });
    assert.equal(conflict.tone, 'bad');
    assert.equal(conflict.headline, 'Conflict with 0a:1b:2c:3d:4e:5f', 'the owner MAC is not the conflict');
    assert.match(conflict.detail, /n2/);
  });

  test('a move result names the new owner and the total time (the dialog shows the handoff as its figure)', () => {
    const done = describeMoveResult(RESULT, 'best');
    assert.equal(done.headline, 'Moved to n2');
    assert.equal(done.detail, 'the address answers from n2 · total 1.21 s');
    assert.equal(describeMoveResult({ ...RESULT, outcome: 'accepted', detail: null }, 'n2').tone, 'info');
  });
});

describe('likely best node', () => {
  test('why a node cannot take a resource', () => {
    const web = resource('web', '10.213.0.50', { owner: 'n1', possibleOwners: ['n1', 'n2', 'n4'] });
    assert.equal(moveBlocker(web, node('n1')), 'current owner');
    assert.equal(moveBlocker(web, node('n2', 'paused')), 'paused');
    assert.equal(moveBlocker(web, node('n3')), 'not a possible owner');
    assert.equal(moveBlocker(web, node('n4')), null);
  });

  test('the agent\'s rules without the current owner: preferred first, then the least loaded', () => {
    const nodes = [node('n1'), node('n2'), node('n3'), node('n4', 'paused')];
    const loads = loadsOf([resource('a', '10.213.1.1', { owner: 'n2' }), resource('b', '10.213.1.2', { owner: 'n2' }), resource('c', '10.213.1.3', { owner: 'n3' })]);
    const preferOwner = resource('web', '10.213.0.50', { owner: 'n1', preferredOwners: ['n1', 'n4', 'n2'] });
    assert.equal(likelyBestNode(preferOwner, nodes, loads), 'n2', 'the owner and a paused node are skipped, the next preferred wins');
    assert.equal(likelyBestNode(resource('web', '10.213.0.50', { owner: 'n1' }), nodes, loads), 'n3', 'least loaded of n2 (2) and n3 (1)');
    assert.equal(likelyBestNode(resource('web', '10.213.0.50', { owner: null }), nodes, loads), 'n1', 'an unowned resource may go anywhere');
    assert.equal(likelyBestNode(resource('web', '10.213.0.50', { owner: 'n1', possibleOwners: ['n1', 'n4'] }), nodes, loads), null);
  });

  test('on many clusters, names a node the dialog lets the operator pick, and one only when there is one', () => {
    const states = ['up', 'up', 'paused', 'down'] as const;
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 500; round++) {
      const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].slice(0, 2 + random(4)).map((name) => node(name, states[random(states.length)]));
      const names = nodes.map((n) => n.name);
      const pick = (): string[] => names.filter(() => random(3) === 0);
      const owner = random(3) === 0 ? null : (names[random(names.length)] ?? null);
      const others = Array.from({ length: random(12) }, (_, i) => resource(`o${i}`, `10.213.1.${i + 1}`, { owner: names[random(names.length)] ?? null }));
      const possibleOwners = pick();
      const web = resource('web', '10.213.0.50', { owner, possibleOwners, preferredOwners: pick().filter((n) => possibleOwners.length === 0 || possibleOwners.includes(n)) });
      const loads = loadsOf([web, ...others]);
      const open = nodes.filter((n) => moveBlocker(web, n) === null);
      const best = likelyBestNode(web, nodes, loads);
      if (open.length === 0) {
        assert.equal(best, null, `round ${round}`);
        continue;
      }
      const chosen = open.find((n) => n.name === best);
      assert.ok(chosen !== undefined, `round ${round}: ${String(best)} is not open to the move`);
      const preferred = web.preferredOwners.find((name) => open.some((n) => n.name === name));
      if (preferred !== undefined) assert.equal(best, preferred, `round ${round}`);
      else assert.equal(loads.get(chosen.name) ?? 0, Math.min(...open.map((n) => loads.get(n.name) ?? 0)), `round ${round}: not the least loaded`);
    }
  });
});
