// The failover profiles (cluster/failover-profile.ts) and how the operator picks one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { detectionFor, freshVerdictMs, isFailoverProfile, MIN_PROBES_FOR_SILENCE } from '../../main/cluster/failover-profile';
import { parseCommand, UsageError } from '../../main/cli/args';

describe('failover profiles', () => {
  test('default asks every 20 ms and waits 100 ms; fast every 3 ms and 12 ms; both need at least four questions', () => {
    assert.deepEqual(detectionFor('default'), { probeIntervalMs: 20, ownerSilenceMs: 100, probesForSilence: 5 });
    assert.deepEqual(detectionFor('fast'), { probeIntervalMs: 3, ownerSilenceMs: 12, probesForSilence: 4 });
    // A short silence never means fewer questions: one lost frame proves nothing.
    assert.equal(detectionFor('default', 10).probesForSilence, MIN_PROBES_FOR_SILENCE);
    assert.deepEqual(detectionFor('fast', 300), { probeIntervalMs: 3, ownerSilenceMs: 300, probesForSilence: 100 });
  });

  test('a verdict is fresh for its own silence, and never less than 50 ms', () => {
    assert.equal(freshVerdictMs(detectionFor('default')), 100);
    assert.equal(freshVerdictMs(detectionFor('fast')), 50);
    assert.equal(freshVerdictMs(detectionFor('default', 2000)), 2000);
  });

  test('names', () => {
    assert.equal(isFailoverProfile('fast'), true);
    assert.equal(isFailoverProfile('Fast'), false);
    assert.equal(isFailoverProfile('__proto__'), false);
    assert.equal(isFailoverProfile(1), false);
  });

  test('ipfo agent --failover-profile and --owner-silence-ms: checked before anything starts', () => {
    const fast = parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fast']);
    assert.equal(fast.kind === 'agent' && fast.action === 'run' ? fast.failoverProfile : null, 'fast');
    const tuned = parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '40']);
    assert.equal(tuned.kind === 'agent' && tuned.action === 'run' ? tuned.ownerSilenceMs : null, 40);
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--failover-profile', 'fastest']), (e: unknown) => e instanceof UsageError && /--failover-profile must be one of default, fast, got "fastest"/.test(e.message));
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '9']), /--owner-silence-ms must be between 10 and 10000, got 9/);
    assert.throws(() => parseCommand(['agent', '--node', 'n1', '--owner-silence-ms', '1e3']), /--owner-silence-ms must be a whole number/);
  });
});
